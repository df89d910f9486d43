import type { ComponentChildren } from 'preact';

/** A labelled control with its one-line help underneath (aria-describedby ties them). */
export function Field(props: { id: string; label: string; help?: string; children: ComponentChildren; wide?: boolean }) {
  return (
    <div class={props.wide ? 'field wide' : 'field'}>
      <label for={props.id}>{props.label}</label>
      {props.children}
      {props.help && (
        <small id={`${props.id}-help`} class="help">
          {props.help}
        </small>
      )}
    </div>
  );
}
