import { ApiError, api, type FinetuneDetails } from './api.ts';
import { PHASE_LABEL, percent, when } from './format.ts';
import { usePoll } from './hooks.ts';

export type ListedFinetune = FinetuneDetails & { id: string };

/** The key's finetunes (my_finetunes, then finetune_details of each), refreshed while any trains. */
export function useFinetunes(active: boolean) {
  return usePoll<ListedFinetune[]>(
    async (signal) => {
      const ids = await api.myFinetunes(signal);
      // One deleted between the two calls (from another tab, say) is left out, not an error of the whole list.
      const rows = await Promise.all(
        ids.map((id) =>
          api.details(id, signal).then(
            (d) => ({ id, ...d }),
            (err) => {
              if (err instanceof ApiError && err.status === 404) return null;
              throw err;
            },
          ),
        ),
      );
      return rows.filter((r): r is ListedFinetune => r !== null);
    },
    3000,
    [],
    active,
  );
}

export function FinetuneList(props: { finetunes: ListedFinetune[] | undefined; error?: Error }) {
  const list = props.finetunes;
  return (
    <div>
      <div class="row between">
        <h1>Finetunes</h1>
        <a class="button primary" href="#/new">
          New finetune
        </a>
      </div>
      {props.error && (
        <p class="error-box" role="alert">
          {props.error.message}
        </p>
      )}
      {list && list.length === 0 && (
        <div class="empty">
          <p>No finetunes yet. Start one from 1–20 pictures of a person, a product, a style or anything else.</p>
          <a class="button primary" href="#/new">
            New finetune
          </a>
        </div>
      )}
      <ul class="cards">
        {list?.map((f) => {
          const preview = f.training.previews.at(-1)?.url;
          return (
            <li key={f.id} class="card">
              <a href={`#/finetune/${f.id}`} class="card-link">
                <div class="card-img">{preview ? <img src={preview} alt="" /> : <span aria-hidden="true">{f.trigger_word}</span>}</div>
                <div class="card-body">
                  <strong>{f.finetune_comment}</strong>
                  <span class="dim">
                    {f.mode} · {f.trigger_word} · {f.image_count} images · {when(f.timestamp)}
                  </span>
                  <span class={`phase ${f.training.phase}`}>
                    {PHASE_LABEL[f.training.phase]}
                    {f.status === 'Pending' && ` · ${percent(f.progress)}`}
                  </span>
                  {f.status === 'Pending' && <progress max={1} value={f.progress ?? 0} aria-label={`${f.finetune_comment} progress`} />}
                </div>
              </a>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
