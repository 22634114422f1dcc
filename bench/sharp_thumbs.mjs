// scripts/bench peer: sharp, one process over all files, one thread, sequential.
// usage: UV_THREADPOOL_SIZE=1 node sharp_thumbs.mjs OUTDIR FILE...
import { mkdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import sharp from 'sharp';

sharp.concurrency(1); // libvips threads per image
sharp.cache(false); // no cross-file cache: each file is decoded from scratch, like the others

const [out, ...files] = process.argv.slice(2);
if (!out || files.length === 0) {
  console.error('usage: node sharp_thumbs.mjs OUTDIR FILE...');
  process.exit(2);
}
mkdirSync(out, { recursive: true });
for (const file of files) {
  const stem = basename(file, extname(file));
  // rotate(): EXIF orientation, as thumbs does; jpeg() 4:2:0 and no metadata are sharp's defaults.
  await sharp(file)
    .rotate()
    .resize(256, 256, { fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality: 80 })
    .toFile(join(out, `${stem}.jpg`));
}
