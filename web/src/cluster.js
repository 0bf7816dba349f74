// The cluster's public facts (GET /v1/ping) for the top bar and the pages'
// terminal commands. Pages work without them.
import { api } from './api.js';

export async function loadPing() {
  try {
    const ping = await api('GET', '/v1/ping');
    const name = document.getElementById('cluster');
    if (name && typeof ping.cluster_name === 'string') name.textContent = ping.cluster_name;
    return ping;
  } catch {
    return null;
  }
}
