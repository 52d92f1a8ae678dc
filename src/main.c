#include "autoconfig.h"
int main(void);
int
main(void)
{
	return 70;
}
