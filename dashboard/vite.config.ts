// The dashboard's build: hashed file names under assets/ (served immutable by DashboardFunction),
// JSX for Preact through Vite's own transform (no framework plugin needed).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const ATTRIBUTION_DOC = fileURLToPath(new URL('../docs/attribution.md', import.meta.url));

/**
 * `virtual:model-docs`: the models table of docs/attribution.md (model → its credit rule) and the
 * **Definition.** paragraph of each data-driven model's section (`### Markov chain (`markov`, …)`),
 * so the dashboard's explanations are the documentation's own words and cannot drift from them.
 */
function modelDocs(): Plugin {
  const id = 'virtual:model-docs';
  return {
    name: 'touchline-model-docs',
    resolveId: (source) => (source === id ? '\0' + id : null),
    load(resolved) {
      if (resolved !== '\0' + id) return null;
      this.addWatchFile(ATTRIBUTION_DOC);
      const models: Record<string, string> = {};
      const lines = readFileSync(ATTRIBUTION_DOC, 'utf8').split('\n');
      const start = lines.findIndex((l) => l.startsWith('**Models**'));
      for (const line of lines.slice(start + 1)) {
        if (models.first_touch && !line.startsWith('|')) break;
        const m = /^\|\s*`([a-z_]+)`\s*\|\s*(.+?)\s*\|\s*$/.exec(line);
        if (m) models[m[1]] = m[2];
      }
      for (const [i, line] of lines.entries()) {
        // `### Markov chain (`markov`, `markov_k2`, `markov_k3`)`: one definition for each name.
        if (!/^### .*\(`[a-z_0-9]+`/.test(line)) continue;
        const names = [...line.matchAll(/`([a-z_0-9]+)`/g)].map((m) => m[1]);
        const at = lines.findIndex((l, j) => j > i && l.startsWith('**Definition.**'));
        if (at < 0) continue;
        // The definition runs to the next bold-led paragraph (**Assumptions.**).
        const end = lines.findIndex((l, j) => j > at && (l.startsWith('**') || l.startsWith('#')));
        const text = lines.slice(at, end < 0 ? undefined : end).filter((l) => l.trim());
        for (const name of names) models[name] = text.join(' ').replace('**Definition.** ', '');
      }
      for (const required of ['first_touch', 'position_based', 'markov', 'markov_k2', 'markov_k3', 'shapley']) {
        if (!models[required]) this.error(`docs/attribution.md: no explanation of ${required} (found ${Object.keys(models)})`);
      }
      return `export default ${JSON.stringify(models)};`;
    },
  };
}

export default defineConfig({
  plugins: [modelDocs()],
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    target: 'es2022',
    assetsInlineLimit: 0,
    // The initial JS and CSS are held to 150 KB gzipped by a test; the map loads on demand.
    chunkSizeWarningLimit: 200,
  },
  server: {
    // `npm run dev`: Vite's dev server with hot reload; API calls go to `touchline dev`.
    proxy: {
      '/api': process.env.TOUCHLINE_API ?? 'http://127.0.0.1:3000',
    },
  },
});
