import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` serves the app on :5173 and passes the API to the local app
// (`./scripts/run`, :3000), so the browser sees one origin, as in production.
const api = process.env.VOTTERY_API ?? "http://localhost:3000";

export default defineConfig({
  plugins: [react(), tailwindcss()],
  server: {
    port: 5173,
    strictPort: true,
    proxy: { "/api": { target: api, changeOrigin: false } },
  },
  build: {
    outDir: "dist",
    assetsDir: "assets",
    sourcemap: false,
    // No inline module preload polyfill: the CSP allows scripts from the app only.
    modulePreload: { polyfill: false },
  },
});
