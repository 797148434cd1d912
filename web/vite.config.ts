import { defineConfig } from "vite";

// The console is served by the API at /console/ (api/console/http.py); assets get content hashes so
// they can be cached for a year, index.html is revalidated on every load.
export default defineConfig({
  base: "/console/",
  build: {
    outDir: "dist",
    assetsDir: "assets",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    chunkSizeWarningLimit: 1200,
  },
  server: {
    // `npx vite` for working on the pages: the API runs beside it (`make run`)
    proxy: { "/v1": "http://127.0.0.1:8000" },
  },
});
