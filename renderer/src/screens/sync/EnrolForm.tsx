import { useState } from 'react';
import type { MethodOutput } from '../../../../core/contract/contract.js';
import { api } from '../../api-client.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';

type Status = MethodOutput<'sync.status'>;

/**
 * Links this workspace to the organisation's registry from the window: the address and the one-time code the admin
 * sent, and a name for this computer. What goes wrong comes back from core in words that say what to fix (the
 * address, the network, the code); nothing is stored unless the registry accepted the code. Analyst role only
 * (an appraiser session gets FORBIDDEN, shown in words).
 */
export function EnrolForm({ onEnrolled }: { onEnrolled: (s: Status) => void }) {
  const [url, setUrl] = useState('');
  const [code, setCode] = useState('');
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const enrol = async () => {
    setBusy(true);
    setError(null);
    try {
      onEnrolled(await api.call('sync.enrol', { url, code, name }));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      data-testid="enrol-form"
      onSubmit={(e) => {
        e.preventDefault();
        void enrol();
      }}
    >
      <div className="fields">
        <label className="field grow">
          <span>Registry address</span>
          <input name="url" type="url" placeholder="https://registry.example.org" value={url} onChange={(e) => setUrl(e.target.value)} autoComplete="url" />
        </label>
        <label className="field grow">
          <span>Enrolment code (from your registry admin; works once)</span>
          <input name="code" placeholder="enr_…" value={code} onChange={(e) => setCode(e.target.value)} autoComplete="off" spellCheck={false} />
        </label>
        <label className="field">
          <span>A name for this computer</span>
          <input name="name" placeholder="Jordan’s laptop" value={name} onChange={(e) => setName(e.target.value)} />
        </label>
      </div>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      <div className="actions">
        <button type="submit" disabled={busy} aria-busy={busy} data-testid="enrol">
          {busy ? 'Enrolling…' : 'Enrol this computer'}
        </button>
      </div>
    </form>
  );
}
