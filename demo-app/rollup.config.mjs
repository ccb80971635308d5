// Bundles the apps (tsc output in dist/esm) with the SDK's public entry into dist/public/:
// app.js (patient/doctor app) and dev/call.js (the development call page).
import commonjs from '@rollup/plugin-commonjs';
import { nodeResolve } from '@rollup/plugin-node-resolve';

export default {
  input: { 'dev/call': 'dist/esm/dev/call.js', app: 'dist/esm/main.js' },
  plugins: [nodeResolve({ browser: true, preferBuiltins: false }), commonjs()],
  output: { dir: 'dist/public', format: 'es', sourcemap: true, entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
  onwarn(warning, warn) {
    if (warning.code === 'CIRCULAR_DEPENDENCY') return;
    warn(warning);
  },
};
