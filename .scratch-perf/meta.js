const esbuild=require('esbuild');
(async()=>{ for (const f of process.argv.slice(2)) { const r=await esbuild.build({entryPoints:[f],bundle:true,platform:'node',target:'es2022',format:'cjs',minify:true,write:false,metafile:true,outfile:'/tmp/x.js'});
const out=Object.values(r.metafile.outputs)[0]; const by={}; for(const [k,v] of Object.entries(out.inputs)){ const mm=k.match(/node_modules\/((@[^/]+\/)?[^/]+)/); const key=mm?mm[1]:k.split('/').slice(0,3).join('/'); by[key]=(by[key]||0)+v.bytesInOutput;}
console.log(f,'total',out.bytes); Object.entries(by).sort((a,b)=>b[1]-a[1]).slice(0,22).forEach(([k,v])=>console.log(String(v).padStart(8),k)); }})();
