import { useEffect, useRef, useState } from 'preact/hooks';

/**
 * Paint the part of the image to repaint. The strokes live on a canvas at the image's own size laid over
 * it; the mask sent is that canvas thresholded: painted = white (repaint), the rest black (keep).
 */
export function MaskPainter(props: { imageUrl: string; onMask: (png: Blob | null) => void }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [size, setSize] = useState<{ w: number; h: number } | null>(null);
  const [brush, setBrush] = useState(0.08);
  const painting = useRef(false);

  useEffect(() => {
    const img = new Image();
    img.onload = () => setSize({ w: img.naturalWidth, h: img.naturalHeight });
    img.src = props.imageUrl;
    props.onMask(null);
  }, [props.imageUrl]);

  const exportMask = () => {
    const c = canvas.current!;
    const painted = c.getContext('2d')!.getImageData(0, 0, c.width, c.height);
    const out = document.createElement('canvas');
    out.width = c.width;
    out.height = c.height;
    const ctx = out.getContext('2d')!;
    const mask = ctx.createImageData(c.width, c.height);
    let any = false;
    for (let i = 0; i < painted.data.length; i += 4) {
      const v = painted.data[i + 3]! > 0 ? 255 : 0;
      any ||= v > 0;
      mask.data.set([v, v, v, 255], i);
    }
    ctx.putImageData(mask, 0, 0);
    if (!any) return props.onMask(null);
    out.toBlob((b) => props.onMask(b), 'image/png');
  };

  const paint = (e: PointerEvent) => {
    const c = canvas.current!;
    const r = c.getBoundingClientRect();
    const x = ((e.clientX - r.left) / r.width) * c.width;
    const y = ((e.clientY - r.top) / r.height) * c.height;
    const ctx = c.getContext('2d')!;
    ctx.fillStyle = '#ff2d6f';
    ctx.beginPath();
    ctx.arc(x, y, brush * Math.min(c.width, c.height), 0, Math.PI * 2);
    ctx.fill();
  };

  if (!size) return null;
  return (
    <div class="mask-painter">
      <div class="mask-stack" style={{ aspectRatio: `${size.w} / ${size.h}` }}>
        <img src={props.imageUrl} alt="To repaint, under the mask" />
        <canvas
          ref={canvas}
          width={size.w}
          height={size.h}
          aria-label="Mask: paint over the part to repaint"
          data-testid="mask-canvas"
          onPointerDown={(e) => {
            painting.current = true;
            (e.currentTarget as HTMLCanvasElement).setPointerCapture(e.pointerId);
            paint(e);
          }}
          onPointerMove={(e) => painting.current && paint(e)}
          onPointerUp={() => {
            painting.current = false;
            exportMask();
          }}
        />
      </div>
      <div class="row wrap">
        <label>
          Brush <input type="range" min={0.02} max={0.25} step={0.01} value={brush} onInput={(e) => setBrush(e.currentTarget.valueAsNumber)} />
        </label>
        <button
          type="button"
          class="ghost small"
          onClick={() => {
            const c = canvas.current!;
            c.getContext('2d')!.clearRect(0, 0, c.width, c.height);
            props.onMask(null);
          }}
        >
          Clear mask
        </button>
      </div>
    </div>
  );
}
