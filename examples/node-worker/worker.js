#!/usr/bin/env node
// Counts syllables for a distributo-master job, as a Node.js gRPC worker.
//
//   node worker.js --master=127.0.0.1:4000 [--concurrency=4] [--name=NAME]
//
// Tasks are {"word": "banana"} (with "sleep_ms": N, they take at least N ms,
// for the conformance suite); results {"word": "banana", "syllables": 3},
// counted as examples/syllables/count_syllables.py counts them.
"use strict";

const {Worker} = require("./distributo_worker");

// The heuristic of count_syllables.py, regex for regex.
const VOWEL_GROUP = /[aeiouy]+/g;
const HIATUS = new RegExp(
    "(^|[^cgstx])i(a|o(?!n)|u)" + "|[^qg]ua|creat" +
    "|[aeiouy]ings?$|[aeiouy][^aeiouy]+ea$", "g");
const SYLLABIC_END = /[^aeiouylr][lr]e[ds]?$/;
const SILENT_END = /[^aeiouy]e$|[^aeiouytd]ed$|[^aeiouyszxhgc]es$/;

function countWord(word) {
  let count = (word.match(VOWEL_GROUP) || []).length +
              (word.match(HIATUS) || []).length;
  if (!SYLLABIC_END.test(word) && SILENT_END.test(word)) count--;
  return Math.max(count, 1);
}

function countSyllables(text) {
  const folded = text.toLowerCase().replace(/\u2019/g, "'").normalize("NFKD")
      .replace(/[^\x00-\x7f]/g, "");
  return (folded.match(/[a-z']+/g) || [])
      .map((w) => w.replace(/'s$/, "").replace(/'/g, ""))
      .filter((w) => w.length > 0)
      .reduce((sum, w) => sum + countWord(w), 0);
}

async function count(payload) {
  if (payload === null || typeof payload !== "object" ||
      typeof payload.word !== "string") {
    throw new TypeError(`expected {"word": STRING}, got ${JSON.stringify(payload)}`);
  }
  if (payload.sleep_ms > 0) {
    await new Promise((resolve) => setTimeout(resolve, payload.sleep_ms));
  }
  return {word: payload.word, syllables: countSyllables(payload.word)};
}

function flags(argv) {
  const out = {master: "127.0.0.1:4000", concurrency: 1, name: undefined};
  for (const arg of argv) {
    const match = /^--(master|concurrency|name)=(.*)$/.exec(arg);
    if (!match) throw new Error(`unknown argument ${arg}`);
    out[match[1]] = match[1] === "concurrency" ? Number(match[2]) : match[2];
  }
  return out;
}

const options = flags(process.argv.slice(2));
new Worker(options.master, count, options).run().then((code) => process.exit(code));
