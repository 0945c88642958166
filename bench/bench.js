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
const PEAK_PER_CORE = 273;      // GFLOP/s, FP32 AVX-512 FMA, one Zen 5 core
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
  (est[n] ? ` (own count ${f(est[n], 2)})` : '')).join(', ')}; FP32 peak ${PEAK_PER_CORE} GFLOP/s per core`);

for (const name of MODELS) {
  const cfg = JSON.parse(fs.readFileSync(files[name] + '.json', 'utf8'));
  const sid = (cfg.num_speakers || 1) > 1 ? ['--sid', '0'] : [];
  for (const n of SIZES) {
    const idsFile = path.join(args.tmp, `ids-${name}-${n}.txt`);
    fs.writeFileSync(idsFile, genIds(cfg, n, 12345 + n).join(',') + '\n');
    for (const t of THREADS) {
      const common = ['-m', files[name], '--ids', '@' + idsFile, '--scales', '0,1,0', '--threads', String(t), '--reps', String(REPS), ...sid];
      const ortArgs = [args.ortref, '--model', files[name], '--ids', '@' + idsFile, '--scales', '0,1,0', '--threads', String(t), '--reps', String(REPS), ...sid];
      const v = [], o = [];
      try {
        for (let r = 0; r < RUNS; r++) {
          v.push(runJson(args.vox, ['infer', ...common], false));
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
      });
      const r = rows[rows.length - 1];
      if (r.samples !== r.ortSamples) console.error(`bench: sample count differs: vox ${r.samples} ORT ${r.ortSamples}`);
      process.stderr.write(`  done ${name} ids=${n} threads=${t}\n`);
    }
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
  'vox peak_rss_mb, ORT /usr/bin/time %M of the node process; %peak: vox GFLOP/s / (273 x threads))');
