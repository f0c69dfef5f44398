import { createEngines } from './src/tts/engines.ts'
import { loadSpeex } from './src/tts/resample.ts'
import { runJob } from './src/tts/job.ts'
import { threadCpuMs } from '../../bench/thread-cpu.ts'
const speex = await loadSpeex()
const engines = await createEngines()
const S = 'Access tokens let a browser speak without ever seeing the API key.'.split(' ')
const job = (n: number, engine: 'espeak' | 'flite') => runJob(engines, speex, {engine, voice: engine === 'espeak' ? 'en-us' : 'slt', text: S.slice(0, n).join(' '), speed:1, sampleRate: 24000}, ()=>false, ()=>{})
for (let i=0;i<300;i++) job(1 + (i % 12), 'espeak')
for (const engine of ['espeak', 'flite'] as const) {
  const res: Record<number, number[]> = {}
  for (let r=0;r<5;r++) for (const n of [2,3,4,5,6,12]) { const c0 = threadCpuMs(); for (let k=0;k<(engine==='espeak'?40:10);k++) job(n, engine); (res[n] ??= []).push((threadCpuMs()-c0)/(engine==='espeak'?40:10)) }
  for (const [n, v] of Object.entries(res)) { v.sort((a,b)=>a-b); console.log(engine, n, 'words: median CPU ms', v[2]!.toFixed(2), 'min', v[0]!.toFixed(2)) }
}
process.exit(0)
