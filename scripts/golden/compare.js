#!/usr/bin/env node
// Oracle check for scripts/golden/confirm.sh: runs onnxruntime (the ortref install)
// on vox's phoneme ids, one run per sentence, concatenates each corpus line's audio
// and compares it with sherpa-onnx's audio for the same line (piper_tts.js output).
// Same ids => same audio, so a line agrees iff sample counts match and samples are
// equal to within float noise.
//   node compare.js --model M.onnx --ids ids.txt --sherpa out.f32 --sherpa-json run.json
//                   --corpus corpus.txt [--report report.txt]
'use strict';
const fs = require('fs');
const path = require('path');

function loadOrt() {
  const d = path.join(process.env.VOX_ORTREF_DIR || path.join(process.env.HOME || '/root', '.cache', 'vox-ortref'),
                      'node_modules', 'onnxruntime-node');
  try { return require(d); } catch (e) { console.error('run $VOX_SHARED/tools/ortref/setup.sh (VOX_SHARED defaults to ../shared) first'); process.exit(2); }
}

(async () => {
  const a = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) a[argv[i].replace(/^--/, '')] = argv[i + 1];
  const ort = loadOrt();
  const session = await ort.InferenceSession.create(a.model, { intraOpNumThreads: 2, interOpNumThreads: 1 });
  const idLines = fs.readFileSync(a.ids, 'utf8').split('\n');
  const corpus = fs.readFileSync(a.corpus, 'utf8').split('\n');
  const sherpaRun = JSON.parse(fs.readFileSync(a['sherpa-json'], 'utf8').trim().split('\n').pop());
  const sherpa = new Float32Array(fs.readFileSync(a.sherpa).buffer.slice(0));
  // piper_tts.js speaks only non-empty lines; keep the same indexing.
  const lines = corpus.map((t, i) => ({ t, ids: idLines[i] || '' })).filter(x => x.t.trim());
  if (lines.length !== sherpaRun.samples_per_text.length) {
    console.error(`line count mismatch: ${lines.length} vs sherpa ${sherpaRun.samples_per_text.length}`);
    process.exit(1);
  }
  let off = 0, agree = 0;
  const report = [];
  for (let i = 0; i < lines.length; i++) {
    const n = sherpaRun.samples_per_text[i];
    const ref = sherpa.subarray(off, off + n);
    off += n;
    const parts = [];
    for (const s of lines[i].ids.split(' | ').filter(Boolean)) {
      const ids = BigInt64Array.from(s.split(',').map(x => BigInt(x)));
      const out = await session.run({
        input: new ort.Tensor('int64', ids, [1, ids.length]),
        input_lengths: new ort.Tensor('int64', BigInt64Array.from([BigInt(ids.length)]), [1]),
        scales: new ort.Tensor('float32', Float32Array.from([0, 1, 0]), [3]),
      });
      parts.push(out[session.outputNames[0]].data);
    }
    const same = (ps) => {
      if (ps.reduce((k, p) => k + p.length, 0) !== n) return false;
      let k = 0;
      for (const p of ps) for (let j = 0; j < p.length; j++, k++) if (Math.abs(p[j] - ref[k]) >= 1e-4) return false;
      return true;
    };
    const total = parts.reduce((k, p) => k + p.length, 0);
    let status = same(parts) ? 'OK' : 'DIFF';
    // sherpa (piper-phonemize C++) also speaks a clause-less sentence, e.g. the lone
    // closing quote after '."', as ids ^ _ $; Piper drops empty sentences, so do we.
    // Such a line is confirmed if inserting that audio somewhere makes it equal.
    if (status === 'DIFF' && n > total) {
      const e = await session.run({
        input: new ort.Tensor('int64', BigInt64Array.from([1n, 0n, 2n]), [1, 3]),
        input_lengths: new ort.Tensor('int64', BigInt64Array.from([3n]), [1]),
        scales: new ort.Tensor('float32', Float32Array.from([0, 1, 0]), [3]),
      });
      const empty = e[session.outputNames[0]].data;
      for (let pos = 0; pos <= parts.length && status === 'DIFF'; pos++)
        if (same([...parts.slice(0, pos), empty, ...parts.slice(pos)])) status = 'OK';
    }
    const ok = status === 'OK';
    if (ok) agree++;
    report.push(`${ok ? 'OK  ' : 'DIFF'} ${String(i + 1).padStart(3)} ours=${total} sherpa=${n} ${lines[i].t}`);
  }
  if (a.report) fs.writeFileSync(a.report, report.join('\n') + '\n');
  console.log(report.filter(l => l.startsWith('DIFF')).join('\n'));
  console.log(JSON.stringify({ lines: lines.length, agree, rate: +(agree / lines.length).toFixed(4) }));
})();
