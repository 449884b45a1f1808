import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The bundle is served by nginx under a strict CSP (default-src 'self'):
// no inline scripts, no eval, every asset from /assets/.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    sourcemap: false,
    target: 'es2022',
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 900,
  },
  server: {
    // `npm run dev` against a running stack: GLYPHIC_URL=http://127.0.0.1:8080
    proxy: { '/api': process.env.GLYPHIC_URL || 'http://127.0.0.1:8080', '/hooks': process.env.GLYPHIC_URL || 'http://127.0.0.1:8080' },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
