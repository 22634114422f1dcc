// CloudFront Function (cloudfront-js-2.0), viewer-request, on the thumbnail behaviour
// (/images/*/*). It maps the viewer's Accept header to one of three formats and writes it to
// x-thumbs-format, the only header in the cache key, so a thumbnail URL has at most three
// cached variants however many distinct Accept strings browsers send. It also replaces
// Accept with a canonical value for that format, which the origin (thumbs-serve) negotiates
// on, so the cached body always matches its key.
// The rule is thumbs-http's accept.rs; both are tested against infra/accept-cases.json.
// template.yaml inlines this file with Fn::Sub, which replaces ${AvifEnabled} (the stack
// parameter, "true" or "false"): no other dollar-brace may appear in this file.
// infra/cloudfront/test.mjs checks that the inlined copy is this file.
var AVIF_ENABLED = '${AvifEnabled}' === 'true';

var CANONICAL_ACCEPT = {
    avif: 'image/avif,image/webp',
    webp: 'image/webp',
    jpeg: 'image/jpeg'
};

var EXTENSION_FORMAT = { jpg: 'jpeg', webp: 'webp', avif: 'avif' };

// An RFC 9110 qvalue in thousandths, or -1 when malformed.
function qvalue(text) {
    var m = /^(0(\.[0-9]{0,3})?|1(\.0{0,3})?)$/.exec(text);
    if (!m) {
        return -1;
    }
    var parts = text.split('.');
    var fraction = ((parts[1] || '') + '000').slice(0, 3);
    return parseInt(parts[0], 10) * 1000 + parseInt(fraction, 10);
}

// Whether `accept` lists `mediaType` with q > 0 and never with q = 0.
function accepts(accept, mediaType) {
    var listed = false;
    var entries = accept.split(',');
    for (var i = 0; i < entries.length; i++) {
        var params = entries[i].split(';');
        if (params[0].trim().toLowerCase() !== mediaType) {
            continue;
        }
        var q = 1000;
        for (var j = 1; j < params.length; j++) {
            var eq = params[j].indexOf('=');
            var name = eq < 0 ? params[j] : params[j].slice(0, eq);
            var value = eq < 0 ? '' : params[j].slice(eq + 1);
            if (name.trim().toLowerCase() === 'q') {
                q = qvalue(value.trim());
            }
        }
        if (q === 0) {
            return false;
        }
        if (q > 0) {
            listed = true;
        }
    }
    return listed;
}

function negotiate(accept, avifEnabled) {
    if (avifEnabled && accepts(accept, 'image/avif')) {
        return 'avif';
    }
    if (accepts(accept, 'image/webp')) {
        return 'webp';
    }
    return 'jpeg';
}

function handler(event) {
    var request = event.request;
    var headers = request.headers;
    // A URL with an extension names its format: one cache entry, whatever the Accept.
    var last = request.uri.slice(request.uri.lastIndexOf('/') + 1);
    var dot = last.lastIndexOf('.');
    var format = dot >= 0 ? EXTENSION_FORMAT[last.slice(dot + 1)] : undefined;
    if (!format) {
        var accept = headers.accept ? headers.accept.value : '';
        if (headers.accept && headers.accept.multiValue) {
            accept = headers.accept.multiValue.map(function (v) { return v.value; }).join(',');
        }
        format = negotiate(accept, AVIF_ENABLED);
    }
    headers['x-thumbs-format'] = { value: format };
    headers.accept = { value: CANONICAL_ACCEPT[format] };
    return request;
}
