const fs=require('fs');const dir=process.argv[2];
for (const f of fs.readdirSync(dir)) { const p=JSON.parse(fs.readFileSync(dir+'/'+f));
 const self=new Map(); const byId=new Map(p.nodes.map(n=>[n.id,n]));
 const dt=p.timeDeltas; const counts=new Map(); p.samples.forEach((s,i)=>counts.set(s,(counts.get(s)||0)+(dt[i]||0)));
 // inclusive: build parent map
 const parent=new Map(); for(const n of p.nodes) for(const c of n.children||[]) parent.set(c,n.id);
 const incl=new Map(); let total=0;
 for(const [id,t] of counts){ total+=t; const seen=new Set(); let cur=id; while(cur!==undefined){ const n=byId.get(cur); const k=n.callFrame.functionName+' '+n.callFrame.url.split('/').slice(-2).join('/')+':'+n.callFrame.lineNumber; if(!seen.has(k)){seen.add(k); incl.set(k,(incl.get(k)||0)+t);} cur=parent.get(cur);} 
   const n=byId.get(id); const k=n.callFrame.functionName+' '+n.callFrame.url.split('/').slice(-2).join('/')+':'+n.callFrame.lineNumber; self.set(k,(self.get(k)||0)+t);}
 console.log(f,'total',(total/1000).toFixed(0),'ms');
 console.log('--incl'); [...incl].sort((a,b)=>b[1]-a[1]).slice(0,Number(process.argv[3]||40)).forEach(([k,t])=>console.log((t/1000).toFixed(0).padStart(7),(100*t/total).toFixed(1).padStart(5)+'%',k));
 console.log('--self'); [...self].sort((a,b)=>b[1]-a[1]).slice(0,20).forEach(([k,t])=>console.log((t/1000).toFixed(0).padStart(7),(100*t/total).toFixed(1).padStart(5)+'%',k));
}
