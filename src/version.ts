/** webq8's version (kept equal to package.json's by a unit test); sent with telemetry and part of cache keys. */
export const VERSION = '0.1.0';
