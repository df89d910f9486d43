import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, api, type InferenceEndpoint, waitForTask } from './api.ts';
import { base64 } from './dataset-checks.ts';
import { Field } from './field.tsx';
import type { ListedFinetune } from './finetune-list.tsx';
import { MaskPainter } from './mask-painter.tsx';
import { type FieldSpec, fieldSpec, hasField, loadSchemas, requestComponent } from './openapi.ts';
import { takeRerun } from './rerun.ts';

const ENDPOINTS: { value: InferenceEndpoint; label: string }[] = [
  { value: 'flux-pro-finetuned', label: 'FLUX.1 [pro] with a finetune' },
  { value: 'flux-pro-1.1-ultra-finetuned', label: 'FLUX1.1 [pro] Ultra with a finetune' },
  { value: 'flux-pro-1.0-canny-finetuned', label: 'Canny (edges) with a finetune' },
  { value: 'flux-pro-1.0-depth-finetuned', label: 'Depth with a finetune' },
  { value: 'flux-pro-1.0-fill-finetuned', label: 'Fill (inpaint) with a finetune' },
  { value: 'flux-pro', label: 'FLUX.1 [pro], base model' },
  { value: 'flux-pro-1.1-ultra', label: 'FLUX1.1 [pro] Ultra, base model' },
  { value: 'flux-pro-1.0-canny', label: 'Canny (edges), base model' },
  { value: 'flux-pro-1.0-depth', label: 'Depth, base model' },
  { value: 'flux-pro-1.0-fill', label: 'Fill (inpaint), base model' },
];
/** The fields whose value each route defaults (from its OpenAPI schema). */
const DEFAULTED = ['width', 'height', 'steps', 'guidance', 'finetune_strength', 'aspect_ratio', 'canny_low_threshold', 'canny_high_threshold', 'raw'];
const ASPECT_RATIOS = ['21:9', '16:9', '3:2', '4:3', '1:1', '3:4', '2:3', '9:16', '9:21'];

interface Generation {
  id: string;
  endpoint: string;
  prompt: string;
  status: string;
  progress: number;
  sample?: string;
  seed?: number;
  format: string;
  error?: string;
}

type Doc = Awaited<ReturnType<typeof loadSchemas>>;

export function GeneratePanel(props: { finetunes: ListedFinetune[] | undefined; finetuneId?: string }) {
  const ready = useMemo(() => (props.finetunes ?? []).filter((f) => f.status === 'Ready'), [props.finetunes]);
  const [doc, setDoc] = useState<Doc | null>(null);
  const [endpoint, setEndpoint] = useState<InferenceEndpoint>('flux-pro-finetuned');
  const [v, setV] = useState<Record<string, string | number | boolean>>({ prompt: '', seed: '', output_format: 'jpeg' });
  const [files, setFiles] = useState<Record<string, { url: string; blob: Blob } | undefined>>({});
  const [maskBlob, setMaskBlob] = useState<Blob | null>(null);
  const [results, setResults] = useState<Generation[]>([]);
  const [errors, setErrors] = useState<string[]>([]);

  useEffect(() => {
    loadSchemas().then(setDoc);
  }, []);
  const component = doc ? requestComponent(doc, `/v1/${endpoint}`) : undefined;
  const spec = (field: string): FieldSpec => (doc && component ? fieldSpec(doc, component, field) : {});
  const has = (field: string) => !!doc && hasField(doc, component, field);
  const finetuned = endpoint.endsWith('-finetuned');
  const kind = /-(canny|depth|fill)/.exec(endpoint)?.[1] as 'canny' | 'depth' | 'fill' | undefined;

  // "Run again" from a finetune's history: its route, then (once that route's schema is known) its values.
  const pendingRerun = useRef<Record<string, unknown> | null>(null);
  useEffect(() => {
    const again = takeRerun();
    if (again && ENDPOINTS.some((e) => e.value === again.endpoint)) {
      pendingRerun.current = again.params;
      setEndpoint(again.endpoint as InferenceEndpoint);
    } else if (props.finetuneId) setV((old) => ({ ...old, finetune_id: props.finetuneId! }));
  }, [props.finetuneId]);

  // A new route starts from its own defaults (guidance is 2.5 on pro, 30 on canny, 60 on fill).
  useEffect(() => {
    if (!doc || !component) return;
    setV((old) => {
      const next = { ...old };
      for (const f of DEFAULTED) {
        const d = spec(f).default;
        if (has(f) && d !== undefined) next[f] = d as string | number | boolean;
      }
      if (pendingRerun.current) Object.assign(next, pendingRerun.current);
      pendingRerun.current = null;
      return next;
    });
  }, [doc, component]);
  useEffect(() => {
    if (finetuned && !v.finetune_id && ready[0]) setV((old) => ({ ...old, finetune_id: ready[0]!.id }));
  }, [finetuned, ready, v.finetune_id]);

  const set = (k: string, value: string | number | boolean) => setV((old) => ({ ...old, [k]: value }));
  const errorBox = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (errors.length > 0) errorBox.current?.focus();
  }, [errors]);
  const pick = (field: string) => (e: Event) => {
    const file = (e.currentTarget as HTMLInputElement).files?.[0];
    setFiles((old) => ({ ...old, [field]: file ? { url: URL.createObjectURL(file), blob: file } : undefined }));
  };
  const b64 = async (blob: Blob | null | undefined) => (blob ? base64(new Uint8Array(await blob.arrayBuffer())) : undefined);

  async function requestBody(): Promise<Record<string, unknown>> {
    const body: Record<string, unknown> = { prompt: v.prompt, output_format: v.output_format };
    if (v.seed !== '' && v.seed !== undefined) body.seed = Number(v.seed);
    for (const f of ['width', 'height', 'steps', 'guidance', 'finetune_strength', 'canny_low_threshold', 'canny_high_threshold']) {
      if (has(f) && v[f] !== undefined && v[f] !== '') body[f] = Number(v[f]);
    }
    if (has('aspect_ratio')) body.aspect_ratio = v.aspect_ratio;
    if (has('raw')) body.raw = !!v.raw;
    if (finetuned) body.finetune_id = v.finetune_id;
    if (kind === 'canny' || kind === 'depth') {
      const image = await b64(files.control?.blob);
      if (!finetuned && v.preprocessed) body.preprocessed_image = image;
      else body.control_image = image;
    }
    if (kind === 'fill') {
      body.image = await b64(files.image?.blob);
      const mask = maskBlob ?? files.mask?.blob;
      if (mask) body.mask = await b64(mask);
    }
    return body;
  }

  const submit = async (e: Event) => {
    e.preventDefault();
    setErrors([]);
    if (finetuned && !v.finetune_id) return setErrors(['Choose a Ready finetune first (or a base-model route).']);
    if ((kind === 'canny' || kind === 'depth') && !files.control)
      return setErrors(['Control image: choose a photo (or an edge / depth map) for the output to follow.']);
    if (kind === 'fill' && !files.image) return setErrors(['Image: choose the picture to repaint.']);
    try {
      const body = await requestBody();
      const { id } = await api.generate(endpoint, body);
      const entry: Generation = { id, endpoint, prompt: String(v.prompt), status: 'Pending', progress: 0, format: String(v.output_format) };
      setResults((r) => [entry, ...r]);
      const patch = (p: Partial<Generation>) => setResults((r) => r.map((g) => (g.id === id ? { ...g, ...p } : g)));
      const done = await waitForTask(id, (progress) => patch({ progress }));
      const result = (done.result ?? {}) as { sample?: string; seed?: number };
      patch({
        status: done.status,
        sample: result.sample,
        seed: result.seed,
        error: done.status === 'Ready' ? undefined : String((done.details as { error?: unknown } | null)?.error ?? done.status),
      });
    } catch (err) {
      setErrors(err instanceof ApiError ? err.sentences : [String(err)]);
    }
  };

  const num = (field: string, label: string, step?: number) => {
    const s = spec(field);
    return (
      <Field id={`g-${field}`} label={label} help={s.description}>
        <input
          id={`g-${field}`}
          type="number"
          min={s.minimum}
          max={s.maximum}
          step={step ?? s.multipleOf ?? 'any'}
          value={v[field] as number}
          onInput={(e) => set(field, e.currentTarget.value)}
          aria-describedby={`g-${field}-help`}
        />
      </Field>
    );
  };

  return (
    <div class="generate">
      <form class="panel" onSubmit={submit} noValidate aria-labelledby="gen-h">
        <h1 id="gen-h">Generate</h1>
        <div class="grid">
          <Field id="g-endpoint" label="Route" wide>
            <select id="g-endpoint" value={endpoint} onChange={(e) => setEndpoint(e.currentTarget.value as InferenceEndpoint)}>
              <optgroup label="With a finetune">
                {ENDPOINTS.filter((x) => x.value.endsWith('-finetuned')).map((x) => (
                  <option key={x.value} value={x.value}>
                    {x.label} — /v1/{x.value}
                  </option>
                ))}
              </optgroup>
              <optgroup label="Base model">
                {ENDPOINTS.filter((x) => !x.value.endsWith('-finetuned')).map((x) => (
                  <option key={x.value} value={x.value}>
                    {x.label} — /v1/{x.value}
                  </option>
                ))}
              </optgroup>
            </select>
          </Field>
          {finetuned && (
            <Field id="g-finetune" label="Finetune" help={ready.length === 0 ? 'No Ready finetune yet.' : undefined}>
              <select id="g-finetune" value={String(v.finetune_id ?? '')} onChange={(e) => set('finetune_id', e.currentTarget.value)}>
                {ready.map((f) => (
                  <option key={f.id} value={f.id}>
                    {f.finetune_comment} ({f.trigger_word})
                  </option>
                ))}
              </select>
            </Field>
          )}
          {finetuned && (
            <Field id="g-strength" label={`Strength ${Number(v.finetune_strength ?? 1).toFixed(2)}`} help={spec('finetune_strength').description}>
              <input
                id="g-strength"
                type="range"
                min={0}
                max={2}
                step={0.05}
                value={Number(v.finetune_strength ?? 1)}
                onInput={(e) => set('finetune_strength', e.currentTarget.valueAsNumber)}
                aria-describedby="g-strength-help"
              />
            </Field>
          )}
          <Field id="g-prompt" label="Prompt" help={spec('prompt').description} wide>
            <textarea id="g-prompt" rows={3} value={String(v.prompt)} onInput={(e) => set('prompt', e.currentTarget.value)} aria-describedby="g-prompt-help" />
          </Field>
          {has('aspect_ratio') && (
            <Field id="g-ar" label="Aspect ratio" help={spec('aspect_ratio').description}>
              <select id="g-ar" value={String(v.aspect_ratio)} onChange={(e) => set('aspect_ratio', e.currentTarget.value)} aria-describedby="g-ar-help">
                {ASPECT_RATIOS.map((r) => (
                  <option key={r}>{r}</option>
                ))}
              </select>
            </Field>
          )}
          {has('raw') && (
            <Field id="g-raw" label="Raw" help={spec('raw').description}>
              <label class="check">
                <input id="g-raw" type="checkbox" checked={!!v.raw} onChange={(e) => set('raw', e.currentTarget.checked)} /> raw mode
              </label>
            </Field>
          )}
          {has('width') && num('width', 'Width (px)')}
          {has('height') && num('height', 'Height (px)')}
          {(kind === 'canny' || kind === 'depth') && (
            <Field id="g-control" label="Control image" help={spec('control_image').description} wide>
              <input id="g-control" type="file" accept="image/png,image/jpeg,image/webp" onChange={pick('control')} aria-describedby="g-control-help" />
              {files.control && <img class="input-preview" src={files.control.url} alt="Control input" />}
              {!finetuned && (
                <label class="check">
                  <input type="checkbox" checked={!!v.preprocessed} onChange={(e) => set('preprocessed', e.currentTarget.checked)} /> it already is the{' '}
                  {kind === 'canny' ? 'edge' : 'depth'} map
                </label>
              )}
            </Field>
          )}
          {kind === 'canny' && num('canny_low_threshold', 'Canny low threshold', 1)}
          {kind === 'canny' && num('canny_high_threshold', 'Canny high threshold', 1)}
          {kind === 'fill' && (
            <Field id="g-image" label="Image to repaint" help="Paint over the part to repaint below, or choose a mask file (white = repaint)." wide>
              <input id="g-image" type="file" accept="image/png,image/jpeg,image/webp" onChange={pick('image')} />
              {files.image && <MaskPainter imageUrl={files.image.url} onMask={setMaskBlob} />}
              <label>
                Mask file (optional) <input type="file" accept="image/png,image/jpeg,image/webp" onChange={pick('mask')} aria-label="Mask file" />
              </label>
            </Field>
          )}
          {has('steps') && num('steps', 'Steps', 1)}
          {has('guidance') && num('guidance', 'Guidance')}
          <Field id="g-seed" label="Seed" help="Blank: a random seed (the result says which).">
            <input
              id="g-seed"
              type="number"
              step={1}
              value={String(v.seed ?? '')}
              onInput={(e) => set('seed', e.currentTarget.value)}
              aria-describedby="g-seed-help"
            />
          </Field>
          <Field id="g-format" label="Output format">
            <select id="g-format" value={String(v.output_format)} onChange={(e) => set('output_format', e.currentTarget.value)}>
              <option value="jpeg">JPEG</option>
              <option value="png">PNG</option>
            </select>
          </Field>
        </div>
        {errors.length > 0 && (
          <div class="error-box" role="alert" ref={errorBox} tabIndex={-1}>
            <strong>Not generated:</strong>
            <ul>
              {errors.map((e) => (
                <li key={e}>{e}</li>
              ))}
            </ul>
          </div>
        )}
        <div class="row end">
          <button type="submit" class="primary">
            Generate
          </button>
        </div>
      </form>
      <section class="panel" aria-labelledby="results-h">
        <h2 id="results-h">Results</h2>
        {results.length === 0 && <p class="dim">Images you generate here appear here, newest first.</p>}
        <ul class="gallery results" data-testid="results">
          {results.map((g) => (
            <li key={g.id}>
              <figure>
                {g.sample ? (
                  <img src={g.sample} alt={g.prompt} />
                ) : (
                  <div class="placeholder" role="status">
                    {g.error ?? `${g.status} ${Math.round(g.progress * 100)}%`}
                  </div>
                )}
                <figcaption>
                  <span class="prompt">{g.prompt || '(no prompt)'}</span>
                  <span class="dim">
                    {g.endpoint}
                    {g.seed !== undefined && ` · seed ${g.seed}`}
                  </span>
                  {g.sample && (
                    <a class="button small" href={g.sample} download={`fluxtune-${g.id.slice(0, 8)}.${g.format === 'png' ? 'png' : 'jpg'}`}>
                      Download
                    </a>
                  )}
                </figcaption>
              </figure>
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}
