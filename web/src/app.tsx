import { useState } from 'preact/hooks';
import { storedKey } from './api.ts';
import { FinetuneList, useFinetunes } from './finetune-list.tsx';
import { FinetunePage } from './finetune-page.tsx';
import { GeneratePanel } from './generate-panel.tsx';
import { useHashRoute } from './hooks.ts';
import { KeyBar } from './key-bar.tsx';
import { NewFinetune } from './new-finetune.tsx';

/** Pages by URL hash: #/ finetunes, #/new, #/finetune/<id>, #/generate[?finetune=<id>]. */
export function App() {
  const route = useHashRoute();
  const [keyVersion, setKeyVersion] = useState(0);
  const hasKey = !!storedKey();
  const finetunes = useFinetunes(hasKey);
  // A deleted finetune leaves the list at once, before the next refresh (its preview URLs are gone).
  const [deleted, setDeleted] = useState<ReadonlySet<string>>(new Set());
  const listed = finetunes.value?.filter((f) => !deleted.has(f.id));
  const [path, search = ''] = route.split('?');
  const params = new URLSearchParams(search);
  const finetuneId = /^\/finetune\/([^/]+)$/.exec(path ?? '')?.[1];
  const nav = (href: string, label: string, active: boolean) => (
    <a href={href} aria-current={active ? 'page' : undefined}>
      {label}
    </a>
  );
  let page = null;
  if (!hasKey) page = <Welcome />;
  else if (path === '/new') page = <NewFinetune />;
  else if (finetuneId)
    page = (
      <FinetunePage
        key={finetuneId}
        id={finetuneId}
        beforeDelete={finetunes.stop}
        onDeleted={() => {
          setDeleted((d) => new Set(d).add(finetuneId));
          finetunes.refresh();
        }}
      />
    );
  else if (path === '/generate') page = <GeneratePanel key={route} finetunes={listed} finetuneId={params.get('finetune') ?? undefined} />;
  else page = <FinetuneList finetunes={listed} error={finetunes.error} />;
  return (
    <div class="shell" key={keyVersion}>
      <header class="top">
        <a class="brand" href="#/">
          fluxtune
        </a>
        <nav aria-label="Main">
          {nav('#/', 'Finetunes', path === '/' || !!finetuneId)}
          {nav('#/new', 'New finetune', path === '/new')}
          {nav('#/generate', 'Generate', path === '/generate')}
          <a href="/docs">API docs</a>
        </nav>
        <KeyBar
          onChange={() => {
            setKeyVersion((v) => v + 1);
            finetunes.refresh();
          }}
        />
      </header>
      <main>{page}</main>
    </div>
  );
}

function Welcome() {
  return (
    <div class="empty">
      <h1>Welcome to fluxtune</h1>
      <p>
        Enter the API key that <code>fluxtune serve</code> printed when it first started (or the one you set with <code>FLUXTUNE_API_KEY</code>). It stays in
        this browser.
      </p>
    </div>
  );
}
