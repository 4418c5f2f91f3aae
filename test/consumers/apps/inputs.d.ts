// Types of inputs.js for the TypeScript that imports it (the Node side of the consumer tests).
export declare const CLS_DIMS: number[];
export declare const MLP_DIMS: number[];
export declare function wave(dims: number[], step: number, scale: number): Float32Array;
export declare function clsInput(): Float32Array;
export declare function mlpInput(): Float32Array;
