#!/usr/bin/env node
// Driver for bench/run.sh: alternates vox infer and onnxruntime runs, prints one table.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const env = process.env;
const RUNS = Math.max(1, parseInt(env.BENCH_RUNS || '5', 10));
const REPS = Math.max(1, parseInt(env.BENCH_REPS || '3', 10));
const SIZES = (env.BENCH_SIZES || '30 200 800').trim().split(/\s+/).map(Number);
const THREADS = (env.BENCH_THREADS || '1 2').trim().split(/\s+/).map(Number);
const MODELS = (env.BENCH_MODELS || 'medium x_low').trim().split(/\s+/);
// Reduced precisions timed beside FP32 in the same alternation (vox infer --precision).
const LOWP = (env.BENCH_PRECISIONS === undefined ? 'bf16 int8' : env.BENCH_PRECISIONS).trim().split(/\s+/).filter(Boolean);
// GFLOP/s of one core, FP32 FMA and bf16 dot: measured by bench/peak.c in this run (the
// machines of one kind differ: 210-219 FP32 on the Zen 5 VMs here, where 273 was assumed);
// 273 (one Zen 5 core's AVX-512 FMA at its nominal clock) only if the tool is missing.
const PEAK = (() => {
  const r = args.peak ? spawnSync(args.peak, [], { encoding: 'utf8' }) : { stdout: '' };
  const m = /fp32=([\d.]+) bf16=([\d.]+)/.exec(r.stdout || '');
  return m && Number(m[1]) > 0 ? { fp32: Number(m[1]), bf16: Number(m[2]), measured: true }
    : { fp32: 273, bf16: 0, measured: false };
})();
const PEAK_PER_CORE = PEAK.fp32;
const MEDIUM_GFLOP = 5.2;       // GFLOP per second of audio (medium model, given)

const files = {
  medium: path.join(args.shared, 'models', 'en_US-rand-medium.onnx'),
  x_low: path.join(args.shared, 'models', 'en_US-rand3spk-x_low.onnx'),
};

// xorshift32 with a fixed seed: the same ids on every run of the benchmark.
function genIds(cfg, n, seed) {
  let s = seed >>> 0 || 1;
  const rnd = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
  const pool = [...new Set(Object.values(cfg.phoneme_id_map || {}).flat())].filter(v => v > 2 && v < (cfg.num_symbols || 256));
  const ids = [1, 0];   // BOS, pad
  while (ids.length < n - 1) { ids.push(pool[rnd() % pool.length]); ids.push(0); }
  ids.length = n - 1;
  ids.push(2);          // EOS
  return ids;
}

function runJson(cmd, argv, timeRss) {
  const full = timeRss ? ['/usr/bin/time', ['-f', 'RSSKB=%M', cmd, ...argv]] : [cmd, argv];
  const r = spawnSync(full[0], full[1], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const line = (r.stdout || '').split('\n').find(l => l.startsWith('{'));
  if (r.status !== 0 || !line) {
    throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}): ${(r.stderr || '').trim().slice(-400)}`);
  }
  const j = JSON.parse(line);
  const m = /RSSKB=(\d+)/.exec(r.stderr || '');
  if (m) j.rss_mb = Number(m[1]) / 1024;
  return j;
}

const median = a => { const b = [...a].sort((x, y) => x - y); const n = b.length; return n % 2 ? b[(n - 1) / 2] : (b[n / 2 - 1] + b[n / 2]) / 2; };
const f = (v, d = 1) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(d));

// Kernel path and model cost.
function modelInfo(file, rate) {
  const r = spawnSync(args.modelinfo, [file, String(rate)], { encoding: 'utf8' });
  const out = {};
  for (const kv of (r.stdout || '').trim().split(/\s+/)) { const [k, v] = kv.split('='); out[k] = v; }
  return out;
}

// vox's runs use a packed-weight cache private to this run (removed first): the first
// process of a model and precision packs and stores, the others map the file.
env.VOX_PACK_CACHE = path.join(args.tmp, 'pack-cache');
fs.rmSync(env.VOX_PACK_CACHE, { recursive: true, force: true });

const rows = [];
let kernels = '?';
const est = {};
for (const name of MODELS) {
  const cfg = JSON.parse(fs.readFileSync(files[name] + '.json', 'utf8'));
  const mi = modelInfo(files[name], cfg.audio.sample_rate);
  kernels = mi.kernels || kernels;
  est[name] = Number(mi.gflop_per_audio_s);
}
// GFLOP per audio second: the medium model's given figure, x_low scaled by the estimate.
const gflop = {};
for (const name of MODELS) {
  gflop[name] = name === 'medium' ? MEDIUM_GFLOP
    : (est.medium && est[name] ? MEDIUM_GFLOP * est[name] / est.medium : est[name] || NaN);
}
if (!est.medium) {
  const cfgm = JSON.parse(fs.readFileSync(files.medium + '.json', 'utf8'));
  est.medium = Number(modelInfo(files.medium, cfgm.audio.sample_rate).gflop_per_audio_s);
  for (const name of MODELS) if (name !== 'medium') gflop[name] = MEDIUM_GFLOP * est[name] / est.medium;
}

console.log(`vox kernels: ${env.VOX_CPU ? `VOX_CPU=${env.VOX_CPU} -> ` : ''}${kernels}; ` +
  `${RUNS} processes x ${REPS} reps each, alternating; medians of per-process best times`);
console.log(`model cost (Conv/ConvTranspose): ${MODELS.map(n => `${n} ${f(gflop[n], 2)} GFLOP/audio-s` +
  (est[n] ? ` (own count ${f(est[n], 2)})` : '')).join(', ')}; FP32 peak ${f(PEAK_PER_CORE)} GFLOP/s per core ` +
  (PEAK.measured ? `(measured, bench/peak.c; bf16 dot ${PEAK.bf16 > 0 ? f(PEAK.bf16) : 'absent'})` : '(assumed: bench/peak.c gave nothing)'));

for (const name of MODELS) {
  const cfg = JSON.parse(fs.readFileSync(files[name] + '.json', 'utf8'));
  const sid = (cfg.num_speakers || 1) > 1 ? ['--sid', '0'] : [];
  for (const n of SIZES) {
    const idsFile = path.join(args.tmp, `ids-${name}-${n}.txt`);
    fs.writeFileSync(idsFile, genIds(cfg, n, 12345 + n).join(',') + '\n');
    for (const t of THREADS) {
      const common = ['-m', files[name], '--ids', '@' + idsFile, '--scales', '0,1,0', '--threads', String(t), '--reps', String(REPS), ...sid];
      const ortArgs = [args.ortref, '--model', files[name], '--ids', '@' + idsFile, '--scales', '0,1,0', '--threads', String(t), '--reps', String(REPS), ...sid];
      const v = [], o = [], lp = {};
      for (const p of LOWP) lp[p] = [];
      try {
        for (let r = 0; r < RUNS; r++) {
          v.push(runJson(args.vox, ['infer', ...common], false));
          for (const p of LOWP) lp[p].push(runJson(args.vox, ['infer', ...common, '--precision', p], false));
          o.push(runJson('node', ortArgs, true));
        }
      } catch (e) {
        console.error(`bench: ${name} ids=${n} threads=${t}: ${e.message}`);
        process.exitCode = 1;
        continue;
      }
      const rate = v[0].sample_rate || cfg.audio.sample_rate;
      const audioS = v[0].samples / rate;
      const vms = median(v.map(j => j.best_ms)), oms = median(o.map(j => j.best_ms));
      rows.push({
        model: name, ids: n, threads: t, samples: v[0].samples, ortSamples: o[0].samples,
        vms, oms, ratio: vms / oms, vrtf: vms / 1000 / audioS, ortf: oms / 1000 / audioS,
        vload: median(v.map(j => j.load_ms)), oload: median(o.map(j => j.load_ms)),
        vrss: median(v.map(j => j.peak_rss_mb)), orss: median(o.map(j => j.rss_mb)),
        peak: gflop[name] * audioS / (vms / 1000) / (PEAK_PER_CORE * t),
        lowp: Object.fromEntries(LOWP.map(p => [p, {
          ms: median(lp[p].map(j => j.best_ms)), load: median(lp[p].map(j => j.load_ms)),
          rss: median(lp[p].map(j => j.peak_rss_mb)), samples: lp[p][0].samples,
          kern: lp[p][0].lowp_kernels, packed: lp[p][0].lowp_packed_mb }])),
      });
      const r = rows[rows.length - 1];
      if (r.samples !== r.ortSamples) console.error(`bench: sample count differs: vox ${r.samples} ORT ${r.ortSamples}`);
      process.stderr.write(`  done ${name} ids=${n} threads=${t}\n`);
    }
  }
}

// Load time, with and without the packed-weight cache (engine/pack_cache.h): the main
// runs above use a cache private to this bench run (the first process of each model and
// precision packs and stores, the rest map), so their "load" is mostly a cache hit. Here,
// per model and precision, LOAD_RUNS processes each with the cache off (packing at every
// load), then with a fresh cache (the first stores; the others hit).
const LOAD_RUNS = Number(env.BENCH_LOAD_RUNS || 5);
const loadRows = [];
for (const name of MODELS) {
  const cfg = JSON.parse(fs.readFileSync(files[name] + '.json', 'utf8'));
  const sid = (cfg.num_speakers || 1) > 1 ? ['--sid', '0'] : [];
  for (const p of ['fp32', ...LOWP]) {
    const dir = path.join(args.tmp, `pack-cache-load-${name}-${p}`);
    fs.rmSync(dir, { recursive: true, force: true });
    const one = cache => runJson(args.vox, ['infer', '-m', files[name], '--ids', '1,2,3', '--reps', '1',
      '--precision', p, '--pack-cache', cache, ...sid], false);
    const off = [], hit = [];
    let stored = NaN;
    for (let r = 0; r < LOAD_RUNS; r++) off.push(one('off').load_ms);
    for (let r = 0; r <= LOAD_RUNS; r++) {
      const j = one(dir);
      if (j.pack_cache === 'stored') stored = j.load_ms;
      else if (j.pack_cache === 'hit') hit.push(j.load_ms);
      else console.error(`bench: ${name} ${p}: pack cache ${j.pack_cache} (expected stored, then hit)`);
    }
    fs.rmSync(dir, { recursive: true, force: true });
    loadRows.push([name, p, f(median(off)), f(Math.min(...off)), f(Math.max(...off)), f(stored),
      f(median(hit)), f(Math.min(...hit)), f(Math.max(...hit))]);
  }
}

const hdr = ['model', 'ids', 'thr', 'audio s', 'vox ms', 'ORT ms', 'vox/ORT', 'vox RTF', 'ORT RTF',
  'vox load', 'ORT load', 'vox RSS', 'ORT RSS', '%peak'];
const table = rows.map(r => [r.model, String(r.ids), String(r.threads), f(r.samples / (r.model === 'medium' ? 22050 : 16000), 2),
  f(r.vms), f(r.oms), f(r.ratio, 3), f(r.vrtf, 4), f(r.ortf, 4), f(r.vload), f(r.oload), f(r.vrss), f(r.orss), f(100 * r.peak, 1)]);
const w = hdr.map((h, i) => Math.max(h.length, ...table.map(row => row[i].length)));
const line = row => row.map((c, i) => (i < 1 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
console.log(line(hdr));
for (const row of table) console.log(line(row));
console.log('(ms: median over processes of best-of-reps synthesis time; load ms: model load; RSS MB: ' +
  'vox peak_rss_mb, ORT /usr/bin/time %M of the node process; %peak: vox GFLOP/s / (' +
  `${f(PEAK_PER_CORE)} x threads))`);

{
  const h3 = ['model', 'precision', 'packing ms', 'min', 'max', 'store ms', 'cache hit ms', 'min', 'max'];
  const w3 = h3.map((h, i) => Math.max(h.length, ...loadRows.map(row => row[i].length)));
  const line3 = row => row.map((c, i) => (i < 2 ? c.padEnd(w3[i]) : c.padStart(w3[i]))).join('  ');
  console.log(`\nLoad time (vox infer load_ms, ${LOAD_RUNS} processes each; medians): packing at every load ` +
    `(--pack-cache off), the first load into an empty cache (packs and writes the file), later loads (map the file):`);
  console.log(line3(h3));
  for (const row of loadRows) console.log(line3(row));
}

if (LOWP.length && rows.length) {
  const k0 = rows[0].lowp;
  console.log(`\nReduced precision (frame-level half: flow + decoder), same alternation: ` +
    LOWP.map(p => `${p} on ${k0[p].kern} (${f(k0[p].packed, 1)} MB packed, ${rows[0].model})`).join(', '));
  const h2 = ['model', 'ids', 'thr', 'fp32 ms'];
  for (const p of LOWP) h2.push(`${p} ms`, `${p}/ORT`, `${p}/fp32`, `${p} RSS`, `${p} load`);
  const t2 = rows.map(r => {
    const row = [r.model, String(r.ids), String(r.threads), f(r.vms)];
    for (const p of LOWP) {
      const q = r.lowp[p];
      row.push(f(q.ms), f(q.ms / r.oms, 3), f(q.ms / r.vms, 3), f(q.rss), f(q.load));
      if (q.samples !== r.samples) console.error(`bench: ${p} sample count ${q.samples} != fp32 ${r.samples}`);
    }
    return row;
  });
  const w2 = h2.map((h, i) => Math.max(h.length, ...t2.map(row => row[i].length)));
  const line2 = row => row.map((c, i) => (i < 1 ? c.padEnd(w2[i]) : c.padStart(w2[i]))).join('  ');
  console.log(line2(h2));
  for (const row of t2) console.log(line2(row));

  // Quality: every shared reference input and the random inputs above, against vox FP32.
  console.log('\nQuality against vox FP32 (vox infer --compare; SNR with the reference mean removed; ' +
    'log-mel distance in dB; samples = reduced / fp32):');
  const cases = [];
  const manifest = JSON.parse(fs.readFileSync(path.join(args.shared, 'reference', 'manifest.json'), 'utf8'));
  const seen = new Set();
  for (const c of (manifest.cases || manifest)) {
    const mname = Object.keys(files).find(k => path.basename(files[k]) === path.basename(c.model || ''));
    if (!mname || !MODELS.includes(mname)) continue;
    const key = `${mname}:${c.ids}:${c.sid}`;
    if (seen.has(key)) continue;
    seen.add(key);
    cases.push({ model: mname, label: `${path.basename(c.ids || '')}${c.sid !== undefined && c.sid !== null ? ` sid ${c.sid}` : ''}`,
      ids: path.join(args.shared, 'reference', path.basename(c.ids || '')), sid: c.sid });
  }
  for (const name of MODELS) for (const n of SIZES) {
    const cfg = JSON.parse(fs.readFileSync(files[name] + '.json', 'utf8'));
    cases.push({ model: name, label: `random ${n} ids`, ids: path.join(args.tmp, `ids-${name}-${n}.txt`),
      sid: (cfg.num_speakers || 1) > 1 ? 0 : undefined });
  }
  const h3 = ['model', 'input'];
  for (const p of LOWP) h3.push(`${p} SNR dB`, `${p} log-mel dB`, `${p} samples`);
  const t3 = [];
  for (const c of cases) {
    const row = [c.model, c.label];
    for (const p of LOWP) {
      try {
        const sid = c.sid !== undefined && c.sid !== null ? ['--sid', String(c.sid)] : [];
        const j = runJson(args.vox, ['infer', '-m', files[c.model], '--ids', '@' + c.ids, '--scales', '0,1,0',
          '--precision', p, '--compare', ...sid], false);
        row.push(typeof j.snr_db === 'number' ? f(j.snr_db, 1) : String(j.snr_db),
          j.logmel_db === null ? '-' : f(j.logmel_db, 3), `${j.samples}/${j.ref_samples}`);
        if (j.samples !== j.ref_samples) { console.error(`bench: ${p} ${c.model} ${c.label}: sample count changed`); process.exitCode = 1; }
      } catch (e) {
        console.error(`bench: quality ${p} ${c.model} ${c.label}: ${e.message}`);
        row.push('-', '-', '-');
        process.exitCode = 1;
      }
    }
    t3.push(row);
  }
  const w3 = h3.map((h, i) => Math.max(h.length, ...t3.map(row => row[i].length)));
  const line3 = row => row.map((c, i) => (i < 2 ? c.padEnd(w3[i]) : c.padStart(w3[i]))).join('  ');
  console.log(line3(h3));
  for (const row of t3) console.log(line3(row));
}
