/// <reference types="vite/client" />
// The generated client reads process.env.NODE_ENV (Vite replaces it when bundling).
declare const process: { env: Record<string, string | undefined> };
