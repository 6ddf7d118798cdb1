// Parse a Mermaid diagram from standard input with Mermaid's own parser (no browser: jsdom gives it
// the DOM it expects). Prints {"ok": true, "type": ...} or {"ok": false, "error": ...}; exit 1 on error.
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
for (const name of ["DOMParser", "Element", "HTMLElement", "Node"]) globalThis[name] = dom.window[name];

const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });
let source = "";
for await (const chunk of process.stdin) source += chunk;
try {
  const parsed = await mermaid.parse(source);
  console.log(JSON.stringify({ ok: true, type: parsed.diagramType }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error.message || error) }));
  process.exitCode = 1;
}
