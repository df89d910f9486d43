import { useState } from 'preact/hooks';
import { ApiError, api, type FinetuneDetails } from './api.ts';
import { Confirm } from './confirm.tsx';
import { duration, PHASE_LABEL, percent, when } from './format.ts';
import { go, usePoll } from './hooks.ts';
import { LossChart } from './loss-chart.tsx';
import { rerun } from './rerun.ts';

const LORA_FORMATS = [
  { value: 'comfyui', label: 'ComfyUI / Forge (kohya keys)' },
  { value: 'kohya', label: 'kohya sd-scripts' },
  { value: 'diffusers', label: 'diffusers (PEFT keys)' },
  { value: 'bfl', label: 'fluxtune / BFL layout' },
];

/** beforeDelete stops whatever else polls this finetune; onDeleted runs once it is gone. */
export function FinetunePage(props: { id: string; beforeDelete: () => void; onDeleted: () => void }) {
  const [deleting, setDeleting] = useState(false);
  const details = usePoll((signal) => api.details(props.id, signal), 2000, [props.id], !deleting);
  const { value: ft, error } = details;
  const [confirming, setConfirming] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  if (!ft) {
    return error ? (
      <p class="error-box" role="alert">
        {error.message}
      </p>
    ) : (
      <p role="status">Loading…</p>
    );
  }
  const training = ft.status === 'Pending';
  const doDelete = async () => {
    setConfirming(false);
    setDeleting(true);
    details.stop();
    props.beforeDelete();
    try {
      await api.deleteFinetune(props.id);
      props.onDeleted();
      go('/');
    } catch (err) {
      setActionError(err instanceof ApiError ? err.message : String(err));
      setDeleting(false);
    }
  };
  return (
    <article class="finetune-page">
      <header class="row between">
        <div>
          <h1>{ft.finetune_comment}</h1>
          <p class="dim">
            {ft.mode} · trigger word <code>{ft.trigger_word}</code> · {ft.image_count} images · {when(ft.timestamp)}
          </p>
        </div>
        <div class="row">
          {ft.status === 'Ready' && (
            <a class="button primary" href={`#/generate?finetune=${props.id}`}>
              Generate with it
            </a>
          )}
          <button type="button" class="danger" onClick={() => setConfirming(true)}>
            {training ? 'Cancel and delete' : 'Delete'}
          </button>
        </div>
      </header>
      {actionError && (
        <p class="error-box" role="alert">
          {actionError}
        </p>
      )}
      {confirming && (
        <Confirm
          title={`Delete “${ft.finetune_comment}”?`}
          body={`${training ? 'Its training is cancelled and its' : 'Its'} images, previews and LoRA are deleted for good. Generations made with it stay.`}
          action={training ? 'Cancel training and delete' : 'Delete finetune'}
          onConfirm={doDelete}
          onCancel={() => setConfirming(false)}
        />
      )}
      <TrainingView ft={{ ...ft, id: props.id }} />
      {ft.status === 'Ready' && <Downloads id={props.id} />}
      <Generations ft={ft} finetuneId={props.id} />
      <Captions ft={ft} />
      <Details ft={ft} />
    </article>
  );
}

function TrainingView({ ft }: { ft: FinetuneDetails & { id: string } }) {
  const t = ft.training;
  // One step's loss is noisy (one random timestep per image): the figure shown is the mean of the last ten.
  const recent = t.loss.slice(-10).map(([, l]) => l);
  const recentLoss = recent.length > 0 ? recent.reduce((a, b) => a + b, 0) / recent.length : undefined;
  return (
    <section class="panel" aria-labelledby="training-h">
      <div class="row between">
        <h2 id="training-h">Training</h2>
        <span class={`phase ${t.phase}`} data-testid="phase">
          {PHASE_LABEL[t.phase]}
        </span>
      </div>
      <div class="progress-line">
        <progress max={1} value={ft.status === 'Ready' ? 1 : (ft.progress ?? 0)} aria-label="Training progress" />
        <span>
          step {t.step} / {t.total_steps} · {ft.status === 'Ready' ? '100%' : percent(ft.progress)}
          {t.eta_seconds !== null && ` · about ${duration(t.eta_seconds)} left`}
          {ft.training_seconds !== null && ` · trained in ${duration(ft.training_seconds)}`}
          {recentLoss !== undefined && ` · loss ${recentLoss.toFixed(4)} (last ${recent.length} steps)`}
        </span>
      </div>
      {t.phase === 'failed' && <FailureReason id={ft.id} />}
      {t.loss.length > 0 ? <LossChart loss={t.loss} totalSteps={t.total_steps} /> : <p class="dim">The loss curve appears with the first steps.</p>}
      <h3>Previews</h3>
      {t.previews.length === 0 ? (
        <p class="dim">A sample with the LoRA so far is rendered at each quarter of the run.</p>
      ) : (
        <ul class="gallery previews" data-testid="previews">
          {t.previews.map((p) => (
            <li key={p.step}>
              <figure>
                <img src={p.url} alt={`Preview at step ${p.step}`} />
                <figcaption>step {p.step}</figcaption>
              </figure>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** get_result's details carry the reason a finetune failed. */
function FailureReason({ id }: { id: string }) {
  const { value } = usePoll(() => api.result(id), 60_000, [id]);
  const reason = (value?.details as { error?: unknown } | null | undefined)?.error;
  return (
    <p class="error-box" role="alert">
      Training failed{reason ? `: ${String(reason)}` : '.'}
    </p>
  );
}

function Downloads({ id }: { id: string }) {
  const [format, setFormat] = useState('comfyui');
  const [dtype, setDtype] = useState('bf16');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <section class="panel downloads" aria-labelledby="lora-h">
      <h2 id="lora-h">Download the LoRA</h2>
      <div class="row wrap">
        <label>
          Layout{' '}
          <select value={format} onChange={(e) => setFormat(e.currentTarget.value)}>
            {LORA_FORMATS.map((f) => (
              <option key={f.value} value={f.value}>
                {f.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Precision{' '}
          <select value={dtype} onChange={(e) => setDtype(e.currentTarget.value)}>
            <option>bf16</option>
            <option>fp16</option>
            <option>fp32</option>
          </select>
        </label>
        <button
          type="button"
          disabled={busy}
          onClick={async () => {
            setError(null);
            setBusy(true);
            try {
              await api.downloadWeights(id, format, dtype);
            } catch (err) {
              setError(err instanceof ApiError ? err.message : String(err));
            } finally {
              setBusy(false);
            }
          }}
        >
          Download .safetensors
        </button>
      </div>
      {error && (
        <p class="error-box" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

function Generations({ ft, finetuneId }: { ft: FinetuneDetails; finetuneId: string }) {
  if (ft.generations.length === 0) return null;
  return (
    <section class="panel" aria-labelledby="gens-h">
      <h2 id="gens-h">Generations ({ft.generations.length})</h2>
      <ul class="gallery">
        {ft.generations.map((g) => (
          <li key={g.id}>
            <figure>
              {g.sample ? <img src={g.sample} alt={String(g.params.prompt ?? '')} /> : <div class="placeholder">{g.status}</div>}
              <figcaption>
                <span class="prompt">{String(g.params.prompt ?? '')}</span>
                <span class="dim">
                  {g.endpoint} · seed {String(g.params.seed)} · strength {String(g.params.finetune_strength ?? '—')}
                </span>
                <button type="button" class="ghost small" onClick={() => rerun(g.endpoint, { ...g.params, finetune_id: finetuneId })}>
                  Run again
                </button>
              </figcaption>
            </figure>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Captions({ ft }: { ft: FinetuneDetails }) {
  return (
    <section class="panel" aria-labelledby="captions-h">
      <h2 id="captions-h">Captions used</h2>
      {!ft.captions ? (
        <p class="dim">Written when training starts.</p>
      ) : (
        <table data-testid="captions">
          <thead>
            <tr>
              <th scope="col">Image</th>
              <th scope="col">Caption</th>
              <th scope="col">Source</th>
            </tr>
          </thead>
          <tbody>
            {ft.captions.map((c) => (
              <tr key={c.file}>
                <td>{c.file}</td>
                <td>{c.caption}</td>
                <td>
                  <span class={`badge ${c.source}`}>{c.source === 'user' ? 'yours' : c.source === 'auto' ? 'auto' : 'trigger word only'}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Details({ ft }: { ft: FinetuneDetails }) {
  const rows: [string, string][] = [
    ['Finetune type', ft.finetune_type],
    ['LoRA rank', String(ft.lora_rank)],
    ['Iterations', String(ft.iterations)],
    ['Learning rate', String(ft.learning_rate)],
    ['Priority', ft.priority],
    ['Auto-captioning', ft.captioning ? 'on' : 'off'],
    ['Region', ft.region],
  ];
  return (
    <section class="panel" aria-labelledby="details-h">
      <h2 id="details-h">Parameters</h2>
      <dl class="details">
        {rows.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}
