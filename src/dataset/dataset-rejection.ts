/** Why an upload was refused. `file` is the ZIP entry at fault, when there is one; the API shows both (BFL's vague "Suspicious file attributes" was a top complaint). */
export class DatasetRejection extends Error {
  constructor(
    readonly reason: string,
    readonly file?: string,
  ) {
    super(file ? `${file}: ${reason}` : reason);
    this.name = 'DatasetRejection';
  }
}
