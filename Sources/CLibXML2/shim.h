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

/// Swift 6 treats the global `xmlFree` function pointer as shared mutable state.
static inline void lt_xml_free(void *ptr) {
    xmlFree(ptr);
}

/// Returns the user data pointer stored in the parser context.
static inline void *lt_xml_ctxt_private(void *ctx) {
    return ((htmlParserCtxtPtr)ctx)->_private;
}

#endif
