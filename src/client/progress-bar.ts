/** A one-line progress bar with ETA on stderr (redrawn in place on a TTY, a line per 10% otherwise). */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr) {
  const started = Date.now();
  let lastDecile = -1;
  return {
    update(progress: number | null, status: string) {
      const p = Math.max(0, Math.min(1, progress ?? 0));
      const elapsed = (Date.now() - started) / 1000;
      const eta = p > 0.01 && p < 1 ? formatSeconds((elapsed / p) * (1 - p)) : '--';
      const width = 30;
      const filled = Math.round(p * width);
      const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(p * 100).toFixed(0).padStart(3)}% ${status}  elapsed ${formatSeconds(elapsed)}  ETA ${eta}`;
      if (stream.isTTY) stream.write(`\r${line}\x1b[K`);
      else if (Math.floor(p * 10) !== lastDecile) {
        lastDecile = Math.floor(p * 10);
        stream.write(`${line}\n`);
      }
    },
    done() {
      if (stream.isTTY) stream.write('\n');
    },
  };
}

function formatSeconds(s: number): string {
  const m = Math.floor(s / 60);
  const sec = Math.round(s % 60);
  return m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}
