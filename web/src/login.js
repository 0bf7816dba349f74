// /web/login: user, password and code -> POST /v1/web/login -> /web/, or
// back to the page that sent the visitor here (?next=/web/sessions/ID).
// A button per single sign-on connector (GET /v1/sso/oidc/NAME/login, which
// ends at /web/ or back here with ?sso_error=why).
import { api, describeError } from './api.js';
import { loadPing } from './cluster.js';
import { byId, el, setAlert } from './dom.js';

const form = byId('login-form');
const alertRegion = byId('login-error');
const submit = byId('login-submit');

// Where to go once logged in: ?next= when it names a page of this UI (a
// path under /web/, no scheme, host or backslash: never another site),
// else /web/.
function landingPage() {
  const next = new URLSearchParams(window.location.search).get('next') || '';
  return /^\/web\/[A-Za-z0-9\-._~\/]*(\?[A-Za-z0-9\-._~=&%+]*)?$/.test(next) ? next : '/web/';
}

function showConnectors(auth) {
  const connectors = Array.isArray(auth.connectors) ? auth.connectors : [];
  const error = new URLSearchParams(window.location.search).get('sso_error') || '';
  const buttons = byId('sso-buttons');
  for (const c of connectors) {
    if (typeof c.name !== 'string' || !/^[a-z0-9-]+$/.test(c.name) || c.type !== 'oidc') continue;
    buttons.append(el('a', {
      class: 'button', href: `/v1/sso/oidc/${c.name}/login`, 'data-connector': c.name,
    }, `Log in with ${c.name}`));
  }
  if (buttons.childElementCount || error) byId('sso').hidden = false;
  if (error) setAlert(byId('sso-error'), `Single sign-on failed: ${error}`);
}

async function showCluster() {
  const ping = await loadPing();
  if (ping) {
    if (ping.auth) showConnectors(ping.auth);
    // gate-ca words the command (--proxy, and --ca-pin when its certificate
    // is self-signed), as it does the signup page's.
    if (typeof ping.login_command === 'string' && ping.login_command) {
      byId('login-command').textContent = `${ping.login_command} --user NAME`;
    }
    if (ping.auth && ping.auth.second_factor === 'off') {
      byId('otp-field').hidden = true;
      byId('otp').required = false;
    }
  }
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  setAlert(alertRegion, '');
  const user = byId('user').value.trim();
  const password = byId('password').value;
  const otpCode = byId('otp').value.trim();
  if (!user || !password) {
    setAlert(alertRegion, 'Enter your user name and password.');
    (user ? byId('password') : byId('user')).focus();
    return;
  }
  submit.disabled = true;
  submit.textContent = 'Logging in…';
  try {
    await api('POST', '/v1/web/login', { user, password, otp_code: otpCode });
    window.location.replace(landingPage());
    return;
  } catch (err) {
    let message = describeError(err);
    if (err.status === 401) {
      message = 'The user name, password or code is not right. Check them and try again ' +
        '(a code is good once and for about 30 seconds).';
    } else if (err.status === 403) {
      message = `You cannot log in: ${err.message}`;
    }
    setAlert(alertRegion, message);
    byId('otp').value = '';
    byId(err.status === 401 ? 'password' : 'user').focus();
  }
  submit.disabled = false;
  submit.textContent = 'Log in';
});

showCluster();
