// Vite's `?raw` imports: a WGSL file as a string.
declare module '*.wgsl?raw' {
  const source: string;
  export default source;
}
