import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, api, type FinetuneRequest } from './api.ts';
import { base64, checkAll, type DatasetImage, datasetZip, MAX_IMAGES, MAX_ZIP_BYTES, mb, type PickedFile } from './dataset-checks.ts';
import { addFiles, filesOfDrop, filesOfInput } from './dataset-files.ts';
import { Field } from './field.tsx';
import { go } from './hooks.ts';
import { type FieldSpec, fieldSpec, loadSchemas } from './openapi.ts';

type Mode = FinetuneRequest['mode'];

/** What the captioner's sentence becomes per mode (src/dataset/trigger-word.ts places the word the same way). */
function autoCaptionShape(mode: Mode, trigger: string): string {
  if (mode === 'style') return `…what it shows…, in the style of ${trigger}`;
  if (mode === 'general') return `${trigger}, …what the whole image shows…`;
  return `${trigger} …pose, setting…`;
}

interface Params {
  finetune_comment: string;
  mode: Mode;
  trigger_word: string;
  iterations: number;
  learning_rate: string;
  priority: NonNullable<FinetuneRequest['priority']>;
  finetune_type: NonNullable<FinetuneRequest['finetune_type']>;
  lora_rank: 16 | 32;
  captioning: boolean;
}

export function NewFinetune() {
  const [images, setImages] = useState<DatasetImage[]>([]);
  const [skipped, setSkipped] = useState<string[]>([]);
  const [dragging, setDragging] = useState(false);
  const [busy, setBusy] = useState<string | null>(null);
  const [errors, setErrors] = useState<string[]>([]);
  const [specs, setSpecs] = useState<Record<string, FieldSpec>>({});
  const [p, setP] = useState<Params>({
    finetune_comment: '',
    mode: 'character',
    trigger_word: 'TOK',
    iterations: 300,
    learning_rate: '',
    priority: 'quality',
    finetune_type: 'full',
    lora_rank: 32,
    captioning: true,
  });
  useEffect(() => {
    loadSchemas().then((doc) => {
      const names = ['finetune_comment', 'mode', 'trigger_word', 'iterations', 'learning_rate', 'priority', 'finetune_type', 'lora_rank', 'captioning'];
      const found = Object.fromEntries(names.map((n) => [n, fieldSpec(doc, 'FinetuneInputs', n)]));
      setSpecs(found);
      // The API's own defaults (the guide's), where the document states one.
      setP((old) => {
        const next = { ...old } as Record<string, unknown>;
        for (const n of names) if (found[n]?.default !== undefined) next[n] = found[n]!.default;
        return next as unknown as Params;
      });
    });
  }, []);
  const set = <K extends keyof Params>(k: K, v: Params[K]) => setP((old) => ({ ...old, [k]: v }));
  // The button is at the bottom of a long form: a refusal is brought into view (and focus), not left below the fold.
  const errorBox = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (errors.length > 0) errorBox.current?.focus();
  }, [errors]);

  const add = async (picked: PickedFile[]) => {
    setBusy('Reading the files…');
    try {
      const r = await addFiles(images, picked);
      setImages(r.images);
      setSkipped(r.skipped);
      if (!p.finetune_comment && picked[0]) {
        const folder = picked[0].path.includes('/') ? picked[0].path.split('/')[0]! : '';
        if (folder) set('finetune_comment', folder);
      }
    } finally {
      setBusy(null);
    }
  };
  const update = (key: string, patch: Partial<DatasetImage>) => setImages((list) => list.map((img) => (img.key === key ? { ...img, ...patch } : img)));
  const remove = (key: string) => setImages((list) => checkAll(list.filter((img) => img.key !== key)));

  const problems = useMemo(() => {
    const out: string[] = [];
    if (images.length === 0) out.push('Add 1 to 20 images.');
    const bad = images.filter((img) => img.checks.some((c) => c.level === 'error'));
    if (bad.length > 0) out.push(`Fix or remove ${bad.map((b) => b.name).join(', ')}.`);
    if (!p.finetune_comment.trim()) out.push('Give the finetune a name.');
    if (!p.trigger_word.trim()) out.push('Choose a trigger word.');
    return out;
  }, [images, p.finetune_comment, p.trigger_word]);
  const withoutTrigger = images.filter((img) => img.caption.trim() && !img.caption.includes(p.trigger_word)).length;

  const submit = async (e: Event) => {
    e.preventDefault();
    setErrors([]);
    if (problems.length > 0) return setErrors(problems);
    const zip = datasetZip(images);
    if (zip.length > MAX_ZIP_BYTES) return setErrors([`The images come to ${mb(zip.length)}; a finetune's ZIP may have at most 100 MB.`]);
    setBusy(`Uploading ${mb(zip.length)}…`);
    try {
      const body: FinetuneRequest = {
        file_data: base64(zip),
        finetune_comment: p.finetune_comment.trim(),
        mode: p.mode,
        trigger_word: p.trigger_word.trim(),
        iterations: p.iterations,
        priority: p.priority,
        finetune_type: p.finetune_type,
        lora_rank: p.lora_rank,
        captioning: p.captioning,
        ...(p.learning_rate.trim() ? { learning_rate: Number(p.learning_rate) } : {}),
      };
      const { finetune_id } = await api.finetune(body);
      go(`/finetune/${finetune_id}`);
    } catch (err) {
      setErrors(err instanceof ApiError ? err.sentences : [String(err)]);
    } finally {
      setBusy(null);
    }
  };

  const help = (n: string) => specs[n]?.description;
  const enumOf = <T,>(n: string, fallback: T[]) => (specs[n]?.enum as T[] | undefined) ?? fallback;
  const lrDefault = p.finetune_type === 'full' ? '1e-5' : '1e-4';

  return (
    <form class="new-finetune" onSubmit={submit} noValidate>
      <h1>New finetune</h1>
      <section aria-labelledby="images-h">
        <h2 id="images-h">
          Images{' '}
          <span class="count">
            {images.length} / {MAX_IMAGES}
          </span>
        </h2>
        <section
          aria-label="Drop zone for images, captions, folders and ZIPs"
          class={dragging ? 'drop dragging' : 'drop'}
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={async (e) => {
            e.preventDefault();
            setDragging(false);
            if (e.dataTransfer) add(await filesOfDrop(e.dataTransfer.items));
          }}
        >
          <p>Drop images (JPG, PNG, WebP) with optional .txt captions of the same name, a folder, or a ZIP here.</p>
          <div class="row center">
            <label class="button">
              Choose images
              <input
                type="file"
                multiple
                accept="image/jpeg,image/png,image/webp,.txt,.zip"
                class="visually-hidden"
                onChange={async (e) => e.currentTarget.files && add(await filesOfInput(e.currentTarget.files))}
              />
            </label>
            <label class="button">
              Choose a folder
              <input
                type="file"
                data-testid="folder-input"
                // A property every current browser has (Preact sets it as one); not in the DOM typings.
                {...{ webkitdirectory: true }}
                class="visually-hidden"
                onChange={async (e) => e.currentTarget.files && add(await filesOfInput(e.currentTarget.files))}
              />
            </label>
          </div>
          {busy && <p role="status">{busy}</p>}
        </section>
        {skipped.length > 0 && <p class="note">Not images, left out: {skipped.join(', ')}.</p>}
        {withoutTrigger > 0 && (
          <p class="note warning">
            {withoutTrigger} caption{withoutTrigger > 1 ? 's do' : ' does'} not contain the trigger word “{p.trigger_word}”: the model will not tie those images
            to it.
          </p>
        )}
        <ul class="thumbs">
          {images.map((img) => (
            <li key={img.key} class={img.checks.some((c) => c.level === 'error') ? 'thumb bad' : 'thumb'}>
              <img src={img.url} alt={img.name} loading="lazy" />
              <div class="thumb-body">
                <div class="thumb-head">
                  <strong class="file-name" title={img.name}>
                    {img.name}
                  </strong>
                  <button type="button" class="icon" aria-label={`Remove ${img.name}`} onClick={() => remove(img.key)}>
                    ×
                  </button>
                </div>
                <span class="dim">{img.width ? `${img.width}×${img.height} · ${mb(img.bytes.length)}` : mb(img.bytes.length)}</span>
                <ul class="checks">
                  {img.checks.map((c) => (
                    <li key={c.text} class={c.level}>
                      {c.text}
                    </li>
                  ))}
                </ul>
                <label class="caption-label" for={`cap-${img.key}`}>
                  Caption{' '}
                  <span class={`badge ${img.captionSource}`}>
                    {img.captionSource === 'auto' ? (p.captioning ? 'auto' : 'trigger word only') : img.captionSource === 'file' ? 'from .txt' : 'edited'}
                  </span>
                </label>
                <textarea
                  id={`cap-${img.key}`}
                  rows={2}
                  value={img.caption}
                  placeholder={p.captioning ? 'Empty: auto-captioned' : `Empty: “${p.trigger_word}” alone`}
                  onInput={(e) => {
                    const caption = e.currentTarget.value;
                    update(img.key, { caption, captionSource: caption.trim() ? 'edited' : 'auto' });
                  }}
                />
                {img.captionSource === 'auto' && p.captioning && (
                  <small class="help">Written when training starts, shaped “{autoCaptionShape(p.mode, p.trigger_word)}”.</small>
                )}
              </div>
            </li>
          ))}
        </ul>
      </section>

      <section aria-labelledby="params-h">
        <h2 id="params-h">Training</h2>
        <div class="grid">
          <Field id="f-name" label="Name" help={help('finetune_comment')}>
            <input
              id="f-name"
              required
              value={p.finetune_comment}
              onInput={(e) => set('finetune_comment', e.currentTarget.value)}
              aria-describedby="f-name-help"
            />
          </Field>
          <Field id="f-trigger" label="Trigger word" help={help('trigger_word')}>
            <input
              id="f-trigger"
              required
              value={p.trigger_word}
              onInput={(e) => set('trigger_word', e.currentTarget.value)}
              aria-describedby="f-trigger-help"
            />
          </Field>
          <Field id="f-mode" label="Mode" help={help('mode')}>
            <select id="f-mode" value={p.mode} onChange={(e) => set('mode', e.currentTarget.value as Mode)} aria-describedby="f-mode-help">
              {enumOf<Mode>('mode', ['character', 'product', 'style', 'general']).map((m) => (
                <option key={m}>{m}</option>
              ))}
            </select>
          </Field>
          <Field id="f-iterations" label="Iterations" help={help('iterations')}>
            <input
              id="f-iterations"
              type="number"
              min={specs.iterations?.minimum ?? 100}
              max={specs.iterations?.maximum ?? 1000}
              step={10}
              value={p.iterations}
              onInput={(e) => set('iterations', e.currentTarget.valueAsNumber)}
              aria-describedby="f-iterations-help"
            />
          </Field>
          <Field id="f-priority" label="Priority" help={help('priority')}>
            <select
              id="f-priority"
              value={p.priority}
              onChange={(e) => set('priority', e.currentTarget.value as Params['priority'])}
              aria-describedby="f-priority-help"
            >
              {enumOf<string>('priority', ['speed', 'quality', 'high_res_only']).map((m) => (
                <option key={m}>{m}</option>
              ))}
            </select>
          </Field>
          <Field id="f-type" label="Finetune type" help={help('finetune_type')}>
            <select
              id="f-type"
              value={p.finetune_type}
              onChange={(e) => set('finetune_type', e.currentTarget.value as Params['finetune_type'])}
              aria-describedby="f-type-help"
            >
              {enumOf<string>('finetune_type', ['full', 'lora']).map((m) => (
                <option key={m}>{m}</option>
              ))}
            </select>
          </Field>
          <Field id="f-rank" label="LoRA rank" help={help('lora_rank')}>
            <select
              id="f-rank"
              value={String(p.lora_rank)}
              onChange={(e) => set('lora_rank', Number(e.currentTarget.value) as 16 | 32)}
              aria-describedby="f-rank-help"
            >
              {enumOf<number>('lora_rank', [16, 32]).map((m) => (
                <option key={m}>{m}</option>
              ))}
            </select>
          </Field>
          <Field id="f-lr" label="Learning rate" help={help('learning_rate')}>
            <input
              id="f-lr"
              inputMode="decimal"
              placeholder={`default ${lrDefault}`}
              value={p.learning_rate}
              onInput={(e) => set('learning_rate', e.currentTarget.value)}
              aria-describedby="f-lr-help"
            />
          </Field>
          <Field id="f-captioning" label="Auto-captioning" help={help('captioning')}>
            <label class="check">
              <input
                id="f-captioning"
                type="checkbox"
                checked={p.captioning}
                onChange={(e) => set('captioning', e.currentTarget.checked)}
                aria-describedby="f-captioning-help"
              />
              caption images without a caption
            </label>
          </Field>
        </div>
      </section>

      {errors.length > 0 && (
        <div class="error-box" role="alert" ref={errorBox} tabIndex={-1}>
          <strong>The finetune was not started:</strong>
          <ul>
            {errors.map((e) => (
              <li key={e}>{e}</li>
            ))}
          </ul>
        </div>
      )}
      <div class="row end sticky-actions">
        <button type="submit" class="primary" disabled={!!busy}>
          Start training
        </button>
      </div>
    </form>
  );
}
