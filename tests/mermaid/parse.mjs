// Parse Mermaid diagrams with Mermaid's own parser (no browser: jsdom gives it the DOM it expects).
// One process serves a whole test run: each line of standard input is one diagram as a JSON string, and
// each gets one line back, {"ok": true, "type": ...} or {"ok": false, "error": ...}, in order. Loading
// Mermaid and jsdom is most of a parse's cost, so it is done once, not once per diagram.
import { createInterface } from "node:readline";
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
for (const name of ["DOMParser", "Element", "HTMLElement", "Node"]) globalThis[name] = dom.window[name];

const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });
for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (!line.trim()) continue;
  let answer;
  try {
    const parsed = await mermaid.parse(JSON.parse(line));
    answer = { ok: true, type: parsed.diagramType };
  } catch (error) {
    answer = { ok: false, error: String(error.message || error) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
