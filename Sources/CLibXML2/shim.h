#ifndef LINKTRACK_CLIBXML2_SHIM_H
#define LINKTRACK_CLIBXML2_SHIM_H

/* Debian builds libxml2 with ICU, whose headers clash with the copy of ICU inside Foundation.
 * LinkTrack never touches the ICU fields of xmlCharEncodingHandler (it only passes the handler
 * pointer back to libxml2), so the ICU part of the headers is left out. */
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED

#include <libxml/HTMLparser.h>
#include <libxml/parserInternals.h>
#include <libxml/encoding.h>
#include <libxml/entities.h>
#include <libxml/xmlmemory.h>

/// The parser's current position in its (UTF-8) input: consumed + (cur - base).
/// Computed here because the fields are plain C and this stays O(1), unlike xmlByteConsumed().
static inline unsigned long lt_xml_input_position(htmlParserCtxtPtr ctxt) {
    if (ctxt == NULL || ctxt->input == NULL || ctxt->input->cur == NULL || ctxt->input->base == NULL) {
        return (unsigned long)-1;
    }
    return ctxt->input->consumed + (unsigned long)(ctxt->input->cur - ctxt->input->base);
}

/// 1 when the parser stands on `>` or `/>`, as it does when `startElement` fires for a tag written in
/// the document (implied elements fire elsewhere). The input buffer is NUL-terminated, so `cur[1]` is
/// readable whenever `cur[0]` is not NUL.
static inline int lt_xml_at_tag_close(htmlParserCtxtPtr ctxt) {
    if (ctxt == NULL || ctxt->input == NULL || ctxt->input->cur == NULL) {
        return 0;
    }
    const xmlChar *cur = ctxt->input->cur;
    return cur[0] == '>' || (cur[0] == '/' && cur[1] == '>');
}

/// An HTML parser context reading from `input`, which it takes over (freed on failure too).
/// Returns NULL on failure.
static inline htmlParserCtxtPtr lt_html_create_ctxt_with_input(xmlParserInputBufferPtr input) {
    if (input == NULL) {
        return NULL;
    }
    htmlParserCtxtPtr ctxt = htmlNewParserCtxt();
    if (ctxt == NULL) {
        xmlFreeParserInputBuffer(input);
        return NULL;
    }
    xmlParserInputPtr stream = xmlNewIOInputStream(ctxt, input, XML_CHAR_ENCODING_NONE);
    if (stream == NULL) {
        xmlFreeParserInputBuffer(input);
        htmlFreeParserCtxt(ctxt);
        return NULL;
    }
    if (inputPush(ctxt, stream) < 0) {
        xmlFreeInputStream(stream);
        htmlFreeParserCtxt(ctxt);
        return NULL;
    }
    return ctxt;
}

/// An HTML parser context that reads `size` bytes at `buffer` in place. htmlCreateMemoryParserCtxt
/// copies them into a buffer of its own first; this one wraps them in a static (immutable) input
/// buffer instead, as libxml2's xmlParserInputBufferCreateStatic documents. The bytes must stay
/// valid and unchanged until the context is freed. Only with an encoding handler (which converts
/// into a buffer of its own): libxml2 2.9.14 re-reads a static buffer from near its start after the
/// first shrink when it parses it directly. Returns NULL on failure.
static inline htmlParserCtxtPtr lt_html_create_static_ctxt(const char *buffer, int size) {
    if (buffer == NULL || size <= 0) {
        return NULL;
    }
    return lt_html_create_ctxt_with_input(xmlParserInputBufferCreateStatic(buffer, size, XML_CHAR_ENCODING_NONE));
}

/// An HTML parser context that pulls its input from `read` (called with `context`), as UTF-8 (the
/// caller declares the encoding). libxml2 keeps only a window of the input in its buffer. Returns
/// NULL on failure.
static inline htmlParserCtxtPtr lt_html_create_pull_ctxt(xmlInputReadCallback read, void *context) {
    if (read == NULL) {
        return NULL;
    }
    return lt_html_create_ctxt_with_input(xmlParserInputBufferCreateIO(read, NULL, context, XML_CHAR_ENCODING_NONE));
}

/// Swift 6 treats the global `xmlFree` function pointer as shared mutable state.
static inline void lt_xml_free(void *ptr) {
    xmlFree(ptr);
}

/// Returns the user data pointer stored in the parser context.
static inline void *lt_xml_ctxt_private(void *ctx) {
    return ((htmlParserCtxtPtr)ctx)->_private;
}

#endif
