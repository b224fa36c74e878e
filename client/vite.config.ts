import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

export default defineConfig({
  plugins: [react()],
  // `npm run dev` talks to a frontend on its default port.
  server: { proxy: { "/ws": { target: "ws://127.0.0.1:8080", ws: true } } },
  test: { environment: "jsdom", include: ["src/**/*.test.ts", "src/**/*.test.tsx"] },
});
