// /web/newuser/TOKEN: the signup an administrator's link starts.
// POST /v1/web/signup/start with the token from the URL; the person picks a
// password, adds the TOTP secret to an app (QR code or text) and proves it
// with a code; POST /v1/web/signup/finish logs them in and they land on /web/.
import { api, describeError, setCsrfToken } from './api.js';
import { loadPing } from './cluster.js';
import { byId, copyButton, el, setAlert, showOnly } from './dom.js';
import { qrSvg } from './qr.js';

const TOKEN_PAGES = {
  unknown: {
    title: 'This signup link is not valid',
    text: 'gate does not know this link: it may be mistyped or cut short, or it was replaced ' +
      'by a newer one. Check that you opened the whole link; otherwise ask your administrator ' +
      'for a new link.',
  },
  used: {
    title: 'This signup link was already used',
    text: 'Someone finished signing up with this link already. If that was you, log in. ' +
      'If it was not, tell your administrator at once and ask for a new link.',
  },
  expired: {
    title: 'This signup link has expired',
    text: 'Signup links are valid for a limited time. Ask your administrator for a new link.',
  },
};

function tokenFromUrl() {
  const prefix = '/web/newuser/';
  const path = window.location.pathname;
  if (!path.startsWith(prefix)) return '';
  try {
    return decodeURIComponent(path.slice(prefix.length).split('/')[0]);
  } catch {
    return '';
  }
}

function showTokenProblem(reason, fallbackMessage) {
  const page = TOKEN_PAGES[reason];
  byId('problem-title').textContent = page ? page.title : 'Signup is not possible right now';
  byId('problem-text').textContent = page ? page.text : fallbackMessage;
  byId('problem-login').hidden = reason !== 'used';
  byId('problem').dataset.reason = reason || 'error';
  showOnly(byId('problem'), byId('loading'), byId('signup'));
  byId('problem-title').focus();
}

function showOffer(offer) {
  byId('cluster').textContent = offer.cluster_name || '';
  byId('user').value = offer.user;
  const min = Number(offer.password_min_length) || 1;
  byId('password').setAttribute('minlength', String(min));
  byId('password-hint').textContent = `At least ${min} characters.`;

  const totp = offer.second_factor !== 'off' && typeof offer.totp_uri === 'string';
  byId('totp-step').hidden = !totp;
  byId('otp').required = totp;
  if (totp) {
    const qr = qrSvg(offer.totp_qr, 'QR code of your authenticator secret');
    const holder = byId('qr');
    holder.replaceChildren();
    if (qr) holder.append(qr);
    else holder.append(el('p', { class: 'muted' }, 'No QR code: add the secret below by hand.'));
    const uri = byId('totp-uri');
    uri.textContent = offer.totp_uri;
    uri.after(copyButton(uri, 'Copy the authenticator URI'));
  }
  if (typeof offer.signup_command === 'string' && offer.signup_command) {
    const command = byId('signup-command');
    command.textContent = offer.signup_command;
    command.after(copyButton(command, 'Copy the gate signup command'));
    byId('terminal-alternative').hidden = false;
  }
  showOnly(byId('signup'), byId('loading'), byId('problem'));
  byId('password').focus();
}

function checkPasswords() {
  const password = byId('password');
  const confirm = byId('password2');
  const min = Number(password.getAttribute('minlength')) || 1;
  if (password.value.length < min) {
    return { field: password, message: `The password needs at least ${min} characters.` };
  }
  if (password.value !== confirm.value) {
    return { field: confirm, message: 'The two passwords differ. Type the same password twice.' };
  }
  return null;
}

async function finish(token, event) {
  event.preventDefault();
  const alertRegion = byId('signup-error');
  setAlert(alertRegion, '');
  const problem = checkPasswords();
  if (problem) {
    setAlert(alertRegion, problem.message);
    problem.field.focus();
    return;
  }
  const otp = byId('otp');
  if (otp.required && !/^[0-9]{6,8}$/.test(otp.value.trim())) {
    setAlert(alertRegion, 'Enter the 6-digit code your authenticator app shows for gate.');
    otp.focus();
    return;
  }
  const submit = byId('signup-submit');
  submit.disabled = true;
  submit.textContent = 'Signing up…';
  try {
    const session = await api('POST', '/v1/web/signup/finish', {
      token, password: byId('password').value, otp_code: otp.value.trim(),
    });
    setCsrfToken(session.csrf_token);
    window.location.replace('/web/');
    return;
  } catch (err) {
    if (err.reason) {
      showTokenProblem(err.reason, describeError(err));
      return;
    }
    setAlert(alertRegion, describeError(err));
    otp.value = '';
    (err.status === 400 ? byId('password') : otp).focus();
  }
  submit.disabled = false;
  submit.textContent = 'Sign up';
}

async function main() {
  loadPing();
  const token = tokenFromUrl();
  if (!token) {
    showTokenProblem('unknown', '');
    return;
  }
  byId('signup-form').addEventListener('submit', (event) => finish(token, event));
  try {
    showOffer(await api('POST', '/v1/web/signup/start', { token }));
  } catch (err) {
    showTokenProblem(err.reason, describeError(err));
  }
}

main();
