/*
 * openapi.c - GET /api/v1/openapi.json: the OpenAPI 3.1 document of
 * docs/openapi.json, built into the program.
 */
#include "api/resources.h"

#include "openapi_json.h"

void openapi_document(struct api_request *req, struct api_response *res)
{
	api_response_text(res, 200, "application/json", openapi_json, OPENAPI_JSON_LEN);
	api_response_header(res, "Cache-Control", "public, max-age=300");
}
