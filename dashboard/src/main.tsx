import { render } from 'preact';
import { App } from './app';
import { earlyAnswers } from './lib/api';
import { signedInEmail } from './lib/session';
import { keep } from './lib/sites';
import './styles.css';

performance.mark('touchline:boot');
// The sites and the person, asked by index.html while this script downloaded, are kept for the tab
// (lib/sites.ts) before the first render, which then draws the page and sends its queries at once
// rather than after a splash, an effect and the two answers; the shell's own GETs take the same
// answers (lib/api.ts).
// (Not a top-level await: the build splits the bundle around one.)
void earlyAnswers(['/api/v1/sites', '/api/v1/me']).then((answers) => {
  const [sites, me] = answers ?? [];
  if (sites && signedInEmail()) keep(signedInEmail(), { sites, me: me ?? null });
  render(<App />, document.getElementById('app')!);
});
