// BFL's errors are pydantic's 422 ({detail: [{loc, msg, input}]}) or {detail: "…"}. People read sentences:
// one per problem, naming the field (and the file, which the server puts in the message), never echoing
// the input (for file_data that is megabytes of base64).

const FIELD_NAMES: Record<string, string> = {
  file_data: 'Images',
  finetune_comment: 'Name',
  trigger_word: 'Trigger word',
  iterations: 'Iterations',
  learning_rate: 'Learning rate',
  lora_rank: 'LoRA rank',
  finetune_type: 'Finetune type',
  finetune_strength: 'Strength',
  control_image: 'Control image',
  preprocessed_image: 'Control image',
  image: 'Image',
  mask: 'Mask',
  canny_low_threshold: 'Canny low threshold',
  canny_high_threshold: 'Canny high threshold',
  aspect_ratio: 'Aspect ratio',
  output_format: 'Output format',
};

const fieldLabel = (field: string) => FIELD_NAMES[field] ?? field.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
const sentence = (s: string) => {
  const t = s.trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
};

export function errorSentences(status: number, json: unknown): string[] {
  const detail = (json as { detail?: unknown } | null)?.detail;
  if (typeof detail === 'string') return [sentence(status === 403 ? `${detail}: check the API key` : detail)];
  if (Array.isArray(detail) && detail.length > 0) {
    return detail.map((d: { loc?: unknown[]; msg?: string }) => {
      const loc = (d.loc ?? []).filter((p) => p !== 'body' && p !== 'query');
      const field = loc.length > 0 ? fieldLabel(String(loc[0])) : 'Request';
      return sentence(`${field}: ${d.msg ?? 'invalid'}`);
    });
  }
  return [`The server answered ${status} without an explanation.`];
}
