// Types of server.mjs, for the TypeScript tests that start it (test/consumers).
export function startServer(opts?: {
  root?: string;
  port?: number;
  host?: string;
  isolate?: boolean;
  quiet?: boolean;
}): Promise<{ url: string; port: number; close(): Promise<void> }>;
