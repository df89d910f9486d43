import { useEffect, useRef } from 'preact/hooks';

/** A modal <dialog>: focus moves into it, Escape cancels, the destructive button says what it does. */
export function Confirm(props: { title: string; body: string; action: string; onConfirm: () => void; onCancel: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  return (
    <dialog ref={ref} class="confirm" aria-labelledby="confirm-title" onClose={props.onCancel}>
      <h2 id="confirm-title">{props.title}</h2>
      <p>{props.body}</p>
      <div class="row end">
        <button type="button" class="ghost" onClick={props.onCancel}>
          Keep it
        </button>
        <button type="button" class="danger" onClick={props.onConfirm}>
          {props.action}
        </button>
      </div>
    </dialog>
  );
}
