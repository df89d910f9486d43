import { useState } from 'preact/hooks';
import { storedKey, storeKey } from './api.ts';

/** The API key the dashboard sends as x-key, kept in this browser's localStorage. */
export function KeyBar(props: { onChange: () => void }) {
  const [editing, setEditing] = useState(!storedKey());
  const [value, setValue] = useState(storedKey());
  if (!editing) {
    return (
      <button type="button" class="key-button" onClick={() => setEditing(true)} aria-label="Change the API key">
        API key ••••{storedKey().slice(-4)}
      </button>
    );
  }
  return (
    <form
      class="key-bar"
      onSubmit={(e) => {
        e.preventDefault();
        storeKey(value.trim());
        setEditing(!value.trim());
        props.onChange();
      }}
    >
      <label>
        API key
        <input type="password" value={value} onInput={(e) => setValue(e.currentTarget.value)} placeholder="printed by fluxtune serve" autoComplete="off" />
      </label>
      <button type="submit">Use key</button>
    </form>
  );
}
