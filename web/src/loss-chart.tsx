import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** Training loss per step, with a moving average (a single step's loss is noisy: one random timestep per image). */
export function LossChart(props: { loss: [number, number][]; totalSteps: number }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data = (): uPlot.AlignedData => {
    const steps = props.loss.map(([s]) => s);
    const values = props.loss.map(([, l]) => l);
    const window = Math.max(5, Math.round(props.loss.length / 15));
    const smooth = values.map((_, i) => {
      const from = Math.max(0, i - window + 1);
      const part = values.slice(from, i + 1);
      return part.reduce((a, b) => a + b, 0) / part.length;
    });
    return [steps, values, smooth];
  };
  useEffect(() => {
    const el = box.current!;
    const opts: uPlot.Options = {
      width: el.clientWidth || 600,
      height: 220,
      scales: { x: { time: false, range: [0, props.totalSteps] } },
      axes: [{ label: 'step' }, { label: 'loss', size: 56 }],
      series: [{ label: 'step' }, { label: 'loss', stroke: 'rgba(37, 99, 235, 0.35)', width: 1 }, { label: 'average', stroke: '#1d4ed8', width: 2 }],
      legend: { show: false },
    };
    plot.current = new uPlot(opts, data(), el);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: el.clientWidth, height: 220 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
    };
  }, [props.totalSteps]);
  useEffect(() => {
    plot.current?.setData(data());
  }, [props.loss]);
  return (
    <figure class="chart-figure">
      <div ref={box} class="chart" role="img" aria-label={`Training loss over ${props.loss.length} of ${props.totalSteps} steps`} />
      <figcaption class="dim">
        <span class="key light" /> loss of each step <span class="key dark" /> moving average
      </figcaption>
    </figure>
  );
}
