// Getting the agent's attention when the tab is in the background: a short chime (WebAudio, no
// sound file), a browser notification (only after the agent asked for them), the tab title.

let audio = null;

// Browsers only let a page play sound after the person interacted with it; the first click or
// key press creates (or resumes) the audio context so a later chime can play while hidden.
function unlockAudio() {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return;
  try {
    audio = audio || new Ctx();
    if (audio.state === "suspended") audio.resume();
  } catch {
    audio = null;
  }
}
["pointerdown", "keydown"].forEach((name) => document.addEventListener(name, unlockAudio, { passive: true }));

export function chime() {
  if (!audio) unlockAudio();
  if (!audio || audio.state !== "running") return;
  const now = audio.currentTime;
  [[880, 0], [1320, 0.12]].forEach(([freq, at]) => {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = "sine";
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, now + at);
    gain.gain.exponentialRampToValueAtTime(0.18, now + at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + at + 0.25);
    osc.connect(gain).connect(audio.destination);
    osc.start(now + at);
    osc.stop(now + at + 0.3);
  });
}

export const notificationsSupported = () => "Notification" in window && window.isSecureContext;

export function notificationsState() {
  return notificationsSupported() ? Notification.permission : "unsupported";
}

export async function askNotificationPermission() {
  if (!notificationsSupported()) return "unsupported";
  try {
    return await Notification.requestPermission();
  } catch {
    return Notification.permission;
  }
}

export function showNotification({ title, body, tag, onClick }) {
  if (notificationsState() !== "granted") return;
  try {
    const n = new Notification(title, { body, tag, renotify: true });
    n.addEventListener("click", () => {
      window.focus();
      onClick?.();
      n.close();
    });
  } catch {
    /* some browsers only allow notifications from a service worker */
  }
}

const baseTitle = document.title;
export function setTitleCount(count) {
  document.title = count > 0 ? `(${count > 99 ? "99+" : count}) ${baseTitle}` : baseTitle;
}
