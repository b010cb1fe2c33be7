// The app bundles the TypeScript client from its sources (clients/js/src) and one copy of
// @solana/kit; everything is served from the build, nothing from a CDN.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  resolve: {
    alias: { '@concord/client': fileURLToPath(new URL('../clients/js/src/index.ts', import.meta.url)) },
    dedupe: ['@solana/kit', '@noble/hashes'],
  },
  build: { target: 'es2022', sourcemap: false, chunkSizeWarningLimit: 1024 },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
