/** Where rekick's installer lives on a bare-metal host, and how to disarm it by hand (docs/operator-guide.md, "SSH"). */
export const INSTALLER_TITLE = 'rekick-installer';
export const INSTALLER_KERNEL = '/boot/vmlinuz-rekick-installer';
export const INSTALLER_INITRD = '/boot/initrd-rekick-installer.img';

/** What to run on a host whose installer rekick could not disarm, so that its next reboot boots the old system. */
export const DISARM_BY_HAND = `grub2-editenv - unset next_entry; grubby --remove-kernel=${INSTALLER_KERNEL}`;
