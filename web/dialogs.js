// The two modal dialogs: a confirmation naming exactly what will happen, and the token prompt.

import { h } from './dom.js';

function open(dialog) {
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue), { once: true });
    dialog.showModal();
  });
}

// Asks to confirm `text`; `fields` are extra inputs ({name, label, type: 'select'|'text', options,
// value}). Resolves to the fields' values (an object, empty without fields) or null when cancelled.
export async function confirmAction({ title, text, confirmLabel = 'Confirm', danger = false, fields = [] }) {
  const dialog = document.getElementById('confirm-dialog');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-text').textContent = text;
  const ok = document.getElementById('confirm-ok');
  ok.textContent = confirmLabel;
  ok.classList.toggle('danger', danger);
  const holder = document.getElementById('confirm-fields');
  holder.replaceChildren(
    ...fields.map((f) => {
      const id = `confirm-field-${f.name}`;
      const input =
        f.type === 'select'
          ? h('select', { id, name: f.name }, f.options.map((o) => h('option', { value: o.value, selected: o.value === f.value }, o.label)))
          : h('input', { id, name: f.name, type: 'text', value: f.value || '', autocomplete: 'off' });
      return h('div', { className: 'field' }, h('label', { for: id }, f.label), input);
    }),
  );
  const answer = await open(dialog);
  if (answer !== 'ok') return null;
  const values = {};
  for (const f of fields) values[f.name] = holder.querySelector(`[name="${f.name}"]`).value;
  return values;
}

// Asks for the daemon's token; `note` says why (first 401, or the last token refused). Resolves to
// the token text, or null when cancelled or left empty.
export async function askToken(note) {
  const dialog = document.getElementById('token-dialog');
  const input = document.getElementById('token-input');
  input.value = '';
  document.getElementById('token-note').textContent = note || '';
  const answer = await open(dialog);
  const value = input.value.trim();
  input.value = '';
  return answer === 'ok' && value ? value : null;
}
