/* Validation of names that leave the config: they become file names, link
 * names, nftables rules, /etc/hosts lines and argv. Strict by design. */
#include <string.h>

#include "config/internal.h"

static bool is_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

bool hostname_valid(const char *s)
{
	size_t total = strlen(s), label = 0;

	if (total == 0 || total > 253)
		return false;
	for (const char *p = s; *p; p++) {
		if (*p == '.') {
			if (label == 0 || p[-1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!is_alnum(*p) && !(*p == '-' && label > 0))
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0 && s[total - 1] != '-';
}

bool user_name_valid(const char *s)
{
	size_t n = strlen(s);
	bool digits = true;

	if (n == 0 || n > 32 || *s == '-' || *s == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (ch == '$' && i == n - 1 && i > 0) /* Samba machine accounts */
			continue;
		if (!is_alnum(ch) && ch != '_' && ch != '-' && ch != '.')
			return false;
		digits = digits && ch >= '0' && ch <= '9';
	}
	return !digits;
}

bool env_name_valid(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!is_alnum(*s) && *s != '_' && *s != '.' && *s != '-')
			return false;
	return true;
}

bool net_name_valid(const char *s)
{
	return service_name_valid(s) && strlen(s) <= 12;
}

bool fdname_valid(const char *s)
{
	return service_name_valid(s);
}
