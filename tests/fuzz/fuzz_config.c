/* libFuzzer: the whole loader on arbitrary bytes (parse, schema, expansion,
 * cross-service validation), then the JSON of every service it accepts. */
#include <stdint.h>
#include <stdlib.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *const env[] = {"HOME=/root", "PATH=/usr/bin:/bin", "PORT=8080", NULL};
	struct sysg_load_opts opts = {.system_mode = size & 1, .environ = env};
	struct sysg_diags d = {0};
	struct sysg_config *cfg;
	char *json;

	if (sysg_config_load_buf("/fuzz/sysg.yaml", (const char *)data, size, &opts, &cfg, &d) == 0) {
		for (size_t i = 0; i < cfg->nsvcs; i++) {
			json = svc_config_to_json(&cfg->svcs[i], i & 1);
			free(json);
			(void)sysg_config_find(cfg, cfg->svcs[i].name);
		}
		sysg_config_free(cfg);
	}
	json = diags_to_json(&d);
	free(json);
	diags_free(&d);
	return 0;
}
