import { html } from 'htm/preact';
import { useState } from 'preact/hooks';

/** A secret the server returned once (an API key, a webhook signing secret): copy it now or never. */
export function SecretNotice({ what, secret, testId }: { what: string; secret: string; testId: string }) {
  return html`<div class="notice" role="status">
    <p>Copy the ${what} now: it is shown only once (the server keeps only what it needs to check it).</p>
    <input class="link" readonly value=${secret} aria-label=${what} data-testid=${testId} onFocus=${(e: Event) => (e.target as HTMLInputElement).select()} />
  </div>`;
}

/**
 * Checkboxes for a set of values, as one labelled group whose checked values FormData reads under
 * `name`. Their state is kept here: a re-render of the page (a poll) must not uncheck them. Remount
 * the form (a new `key`) to start again from `initial`.
 */
export function CheckboxGroup({
  legend,
  name,
  values,
  initial = [],
}: {
  legend: string;
  name: string;
  values: readonly string[];
  initial?: readonly string[];
}) {
  const [checked, setChecked] = useState<ReadonlySet<string>>(() => new Set(initial));
  const toggle = (value: string, on: boolean): void =>
    setChecked((now) => {
      const next = new Set(now);
      if (on) next.add(value);
      else next.delete(value);
      return next;
    });
  return html`<fieldset class="checks">
    <legend>${legend}</legend>
    ${values.map(
      (value) => html`<label key=${value}><input type="checkbox" name=${name} value=${value} checked=${checked.has(value)}
      onChange=${(e: Event) => toggle(value, (e.target as HTMLInputElement).checked)} /> ${value}</label>`,
    )}
  </fieldset>`;
}
