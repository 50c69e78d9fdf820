// Sign-in through Cognito: email and password (USER_PASSWORD_AUTH); a person invited with a
// temporary password sets their own on first sign-in (NEW_PASSWORD_REQUIRED).
import { useState } from 'preact/hooks';
import { ErrorNote } from '../components/card';
import { type AuthConfig, setNewPassword, signIn, type SignInOutcome } from '../lib/session';

interface SignInProps {
  config: AuthConfig | null;
  configError?: Error;
  onSignedIn: () => void;
}

export function SignIn({ config, configError, onSignedIn }: SignInProps) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [challenge, setChallenge] = useState<Extract<SignInOutcome, { kind: 'new-password' }> | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);

  const run = async (step: () => Promise<SignInOutcome>) => {
    setBusy(true);
    setError(null);
    try {
      const outcome = await step();
      if (outcome.kind === 'signed-in') onSignedIn();
      else setChallenge(outcome);
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };

  if (configError) {
    return (
      <main class="signin" id="main">
        <div class="signin-card">
          <h1>Touchline</h1>
          <ErrorNote error={configError} />
        </div>
      </main>
    );
  }
  if (!config) {
    return (
      <main class="signin" id="main">
        <div class="signin-card">
          <h1>Sign-in is not set up</h1>
          <p>This stack serves no accounts API (GET /api/v1/auth/config), so nobody can sign in yet.</p>
        </div>
      </main>
    );
  }
  return (
    <main class="signin" id="main">
      {challenge ? (
        <form
          class="signin-card"
          onSubmit={(e) => {
            e.preventDefault();
            if (next !== confirm) return setError(new Error('The two passwords differ.'));
            run(() => setNewPassword(challenge.email, challenge.session, next));
          }}
        >
          <h1>Choose your password</h1>
          <p>You signed in with a temporary password. Choose the one you will use from now on.</p>
          {error && <ErrorNote error={error} />}
          <label>
            New password
            <input type="password" name="new-password" autoComplete="new-password" minLength={8} value={next} onInput={(e) => setNext(e.currentTarget.value)} required />
          </label>
          <label>
            Repeat it
            <input type="password" name="confirm-password" autoComplete="new-password" minLength={8} value={confirm} onInput={(e) => setConfirm(e.currentTarget.value)} required />
          </label>
          <button type="submit" disabled={busy}>
            Set password and sign in
          </button>
        </form>
      ) : (
        <form
          class="signin-card"
          onSubmit={(e) => {
            e.preventDefault();
            run(() => signIn(email.trim(), password));
          }}
        >
          <h1>Sign in to Touchline</h1>
          {error && <ErrorNote error={error} />}
          <label>
            Email
            <input type="email" name="email" autoComplete="username" value={email} onInput={(e) => setEmail(e.currentTarget.value)} required />
          </label>
          <label>
            Password
            <input type="password" name="password" autoComplete="current-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} required />
          </label>
          <button type="submit" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      )}
    </main>
  );
}
