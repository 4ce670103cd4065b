// Builds static/vendor/icons.svg, the one SVG sprite of the icons Storia shows, from the lucide-static package
// (npm, ISC licence): only the icons named in app/icons.json, each a <symbol id="name">. Run by `make setup`.
import { readFileSync, writeFileSync } from "node:fs";

const names = JSON.parse(readFileSync("app/icons.json", "utf8"));
const version = JSON.parse(readFileSync("node_modules/lucide-static/package.json", "utf8")).version;
const symbols = names.map((name) => {
  const svg = readFileSync(`node_modules/lucide-static/icons/${name}.svg`, "utf8");
  const inner = svg.slice(svg.indexOf(">", svg.indexOf("<svg")) + 1, svg.lastIndexOf("</svg>")).trim();
  return `<symbol id="${name}" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" ` +
    `stroke-linecap="round" stroke-linejoin="round">${inner.replace(/\s*\n\s*/g, " ")}</symbol>`;
});
writeFileSync("static/vendor/icons.svg",
  `<svg xmlns="http://www.w3.org/2000/svg"><!-- Lucide icons (lucide-static ${version}), ISC licence -->\n` +
  symbols.join("\n") + "\n</svg>\n");
console.log(`static/vendor/icons.svg: ${names.length} icons from lucide-static ${version}`);
