// Logging in through the municipality's OpenID provider (庁内の認証基盤): the login screen's
// buttons, the way back from the provider (a one-time ticket in the address, exchanged at once
// and removed from the address bar), and logout that also ends the session at the provider.

import * as api from './api.js';
import { $, h } from './dom.js';

/** What the login screen tells the clerk for each error code the callback sends back. */
const LOGIN_ERRORS = {
  provider_error: '認証基盤でのログインが完了しませんでした（キャンセルされたか、認証基盤が拒否しました）。もう一度お試しください。',
  invalid_state: 'ログインの手続きが無効です（再読み込みや二重送信の可能性があります）。もう一度ログインボタンから始めてください。',
  expired: 'ログインの手続きの有効期限（10分）が切れました。もう一度ログインボタンから始めてください。',
  verification_failed: '認証基盤からの応答を確認できませんでした。もう一度お試しください。続く場合は管理者に連絡してください。',
  account_refused: 'このシステムでは利用できないアカウントです（無効化されているか、登録されていません）。管理者に連絡してください。',
  provider_unavailable: '認証基盤に接続できません。しばらくしてからもう一度お試しください。',
};

let providers = [];

/** The Japanese explanation of a callback error code. */
export function loginErrorMessage(code) {
  return LOGIN_ERRORS[code] ?? 'ログインできませんでした。もう一度お試しください。';
}

/**
 * Takes `login_ticket` / `login_error` out of the address (history.replaceState, so that neither
 * stays in the address bar or the history) and returns them.
 */
export function takeLoginRedirect() {
  const params = new URLSearchParams(window.location.search);
  const ticket = params.get('login_ticket');
  const error = params.get('login_error');
  if (ticket === null && error === null) return {};
  params.delete('login_ticket');
  params.delete('login_error');
  const query = params.toString();
  window.history.replaceState(window.history.state, '', `${window.location.pathname}${query ? `?${query}` : ''}${window.location.hash}`);
  return { ticket, error };
}

/** Shows one button per municipality whose staff log in through its provider. */
export async function showProviderButtons() {
  const container = $('oidc-login');
  try {
    const response = await fetch('/api/v1/auth/oidc/providers', { headers: { Accept: 'application/json' }, credentials: 'omit' });
    providers = response.ok ? await response.json() : [];
  } catch {
    providers = [];
  }
  container.replaceChildren(
    ...providers.map((provider) =>
      h('button', {
        type: 'button',
        class: 'oidc-button',
        onclick: () => window.location.assign(`/api/v1/auth/oidc/login?municipality=${encodeURIComponent(provider.municipality_code)}`),
      }, provider.label)),
  );
  container.hidden = providers.length === 0;
  updatePasswordForm();
}

/** Hides the username and password when the municipality code typed is one without local passwords. */
export function updatePasswordForm() {
  const code = $('login-municipality').value.trim();
  const passwordsOff = providers.some((provider) => !provider.local_passwords_allowed && code && provider.municipality_code.startsWith(code) && code.length >= 5);
  for (const id of ['login-username', 'login-password']) $(id).closest('.field').hidden = passwordsOff;
  $('login-button').hidden = passwordsOff;
  $('login-passwords-off').hidden = !passwordsOff;
}

/** Exchanges a login ticket for a session; false with the reason on the login screen otherwise. */
export async function exchangeTicket(ticket) {
  const response = await fetch('/api/v1/auth/oidc/ticket', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ ticket }),
    credentials: 'omit',
  });
  if (!response.ok) return false;
  api.beginSession(await response.json());
  return true;
}

/** Ends the session on the server, then at the provider when the session began there. */
export async function logoutEverywhere() {
  let endSessionUrl = null;
  try {
    endSessionUrl = (await api.call('POST', '/auth/logout')).data?.end_session_url ?? null;
  } catch {
    // The token was refused already: the session has ended on the server anyway.
  }
  api.endSession();
  if (endSessionUrl) window.location.assign(endSessionUrl);
  return endSessionUrl !== null;
}
