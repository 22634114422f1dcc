// Tests the CloudFront Function normalize-accept.js under node, against the table the Rust
// normaliser is tested with (infra/accept-cases.json), with AVIF on and off, and checks that
// template.yaml inlines exactly this file. Run: node --test infra/cloudfront/test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const source = readFileSync(join(here, 'normalize-accept.js'), 'utf8');
const table = JSON.parse(readFileSync(join(root, 'infra', 'accept-cases.json'), 'utf8'));

// What CloudFormation's Fn::Sub does to the inlined code, then the function as CloudFront
// would call it.
function load(avifEnabled) {
    const code = source.split('${AvifEnabled}').join(String(avifEnabled));
    return new Function(code + '\nreturn handler;')();
}

function viewerRequest(uri, accept) {
    const headers = { host: { value: 'd111111abcdef8.cloudfront.net' } };
    if (accept !== null && accept !== undefined) {
        headers.accept = { value: accept };
    }
    return { version: '1.0', context: { eventType: 'viewer-request' }, viewer: { ip: '192.0.2.1' },
        request: { method: 'GET', uri, querystring: {}, headers, cookies: {} } };
}

const canonical = { avif: 'image/avif,image/webp', webp: 'image/webp', jpeg: 'image/jpeg' };

test('the shared table has cases for every outcome', () => {
    assert.ok(table.cases.length >= 30, `only ${table.cases.length} cases`);
    for (const format of ['avif', 'webp', 'jpeg']) {
        assert.ok(table.cases.some((c) => c.avif === format), format);
    }
});

for (const avifEnabled of [true, false]) {
    const handler = load(avifEnabled);
    const key = avifEnabled ? 'avif' : 'no_avif';
    test(`every Accept case, AVIF ${avifEnabled ? 'on' : 'off'}`, () => {
        for (const c of table.cases) {
            const request = handler(viewerRequest('/images/0123456789abcdef0123456789abcdef/256', c.accept));
            const what = `${c.client}: Accept ${JSON.stringify(c.accept)}`;
            assert.equal(request.headers['x-thumbs-format'].value, c[key], what);
            assert.equal(request.headers.accept.value, canonical[c[key]], what);
            assert.equal(request.uri, '/images/0123456789abcdef0123456789abcdef/256', what);
        }
    });
}

test('a URL with an extension keys on its extension, whatever the Accept', () => {
    const handler = load(true);
    for (const [ext, format] of [['jpg', 'jpeg'], ['webp', 'webp'], ['avif', 'avif']]) {
        for (const accept of [null, '*/*', 'image/avif,image/webp,*/*', 'image/webp']) {
            const request = handler(viewerRequest(`/images/0123456789abcdef0123456789abcdef/128.${ext}`, accept));
            assert.equal(request.headers['x-thumbs-format'].value, format, `${ext} ${accept}`);
            assert.equal(request.headers.accept.value, canonical[format]);
        }
    }
    // an unknown extension is negotiated like no extension (the origin answers 400)
    const png = handler(viewerRequest('/images/0123456789abcdef0123456789abcdef/128.png', 'image/webp'));
    assert.equal(png.headers['x-thumbs-format'].value, 'webp');
});

test('a repeated Accept header (multiValue) is read as one list', () => {
    const handler = load(true);
    const event = viewerRequest('/images/0123456789abcdef0123456789abcdef/512', 'text/html');
    event.request.headers.accept.multiValue = [{ value: 'text/html' }, { value: 'image/avif' }];
    assert.equal(handler(event).headers['x-thumbs-format'].value, 'avif');
});

test('other headers and the URI pass through', () => {
    const handler = load(true);
    const event = viewerRequest('/images/0123456789abcdef0123456789abcdef/512', '*/*');
    event.request.headers['if-none-match'] = { value: '"abc"' };
    const request = handler(event);
    assert.equal(request.headers['if-none-match'].value, '"abc"');
    assert.equal(request.headers.host.value, 'd111111abcdef8.cloudfront.net');
});

test('the file stays within what CloudFront Functions allow', () => {
    // 10 KB maximum function size; Fn::Sub would reject any other ${...}.
    assert.ok(Buffer.byteLength(source) < 10240, `${Buffer.byteLength(source)} bytes`);
    assert.deepEqual(source.match(/\$\{[^}]*\}/g), ['${AvifEnabled}', '${AvifEnabled}']);
    assert.doesNotMatch(source, /\b(import|export|require)\b/);
});

test('template.yaml inlines exactly this file', () => {
    const lines = readFileSync(join(root, 'template.yaml'), 'utf8').split('\n');
    const start = lines.findIndex((l) => /^\s+FunctionCode: !Sub \|$/.test(l));
    assert.ok(start >= 0, 'no "FunctionCode: !Sub |" block in template.yaml');
    const body = [];
    let indent = null;
    for (const line of lines.slice(start + 1)) {
        if (line.trim() === '') {
            body.push('');
            continue;
        }
        const lead = line.length - line.trimStart().length;
        if (indent === null) {
            indent = lead;
        }
        if (lead < indent) {
            break;
        }
        body.push(line.slice(indent));
    }
    while (body.length && body[body.length - 1] === '') {
        body.pop();
    }
    assert.equal(body.join('\n') + '\n', source);
});
