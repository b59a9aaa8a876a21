// A plain text terminal for a serial console: what comes in is shown as text only (the
// terminal's escape sequences and other control characters dropped, a backspace taking back
// a character), the keys typed go out as the bytes a terminal sends.
const MAX_CHARS = 200000; // kept on screen: older text goes

// Keys that are no character of their own (VT100 sequences, as a Linux console reads them).
const KEYS = {
  Enter: "\r", Backspace: "\x7f", Tab: "\t", Escape: "\x1b", Delete: "\x1b[3~",
  ArrowUp: "\x1b[A", ArrowDown: "\x1b[B", ArrowRight: "\x1b[C", ArrowLeft: "\x1b[D",
  Home: "\x1b[H", End: "\x1b[F", PageUp: "\x1b[5~", PageDown: "\x1b[6~",
};

// An escape sequence (CSI, OSC ended by BEL or ST, or two characters), and one cut at the end.
const ESCAPE = /\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[^[\]])/g;
const PARTIAL = /\x1b(\[[0-?]*[ -/]*|\][^\x07\x1b]*\x1b?)?$/;

// The bytes of a key event as text, or "" for keys sent as nothing.
function keyText(ev) {
  if (ev.metaKey || ev.altKey) return "";
  if (ev.ctrlKey) {
    if (ev.key.length !== 1) return "";
    const c = ev.key.toUpperCase().charCodeAt(0);
    return c >= 64 && c < 96 ? String.fromCharCode(c - 64) : "";
  }
  if (KEYS[ev.key]) return KEYS[ev.key];
  return [...ev.key].length === 1 ? ev.key : "";
}

// A terminal element (a focusable <pre>) and write(data) for what comes in; send(bytes) gets
// each key's bytes.
export function serialTerminal(send) {
  const pre = document.createElement("pre");
  pre.id = "console-serial";
  pre.className = "console-serial";
  pre.tabIndex = 0;
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let shown = "";
  let pending = ""; // an escape sequence cut between two messages

  const write = data => {
    let text = pending + (typeof data === "string" ? data : decoder.decode(new Uint8Array(data), { stream: true }));
    const cut = text.match(PARTIAL);
    pending = cut && cut[0].length < 256 ? cut[0] : ""; // no sequence is longer: dropped
    if (cut) text = text.slice(0, cut.index);
    for (const ch of text.replace(ESCAPE, "")) {
      if (ch === "\b") shown = shown.slice(0, -1);
      else if (ch === "\n" || ch === "\t" || (ch >= " " && ch !== "\x7f")) shown += ch;
    }
    if (shown.length > MAX_CHARS) shown = shown.slice(-MAX_CHARS);
    pre.textContent = shown;
    pre.scrollTop = pre.scrollHeight;
  };
  pre.addEventListener("keydown", ev => {
    const t = keyText(ev);
    if (!t) return;
    ev.preventDefault();
    send(encoder.encode(t));
  });
  pre.addEventListener("paste", ev => {
    ev.preventDefault();
    const t = ev.clipboardData ? ev.clipboardData.getData("text/plain") : "";
    if (t) send(encoder.encode(t.replace(/\r?\n/g, "\r")));
  });
  return { element: pre, write };
}
